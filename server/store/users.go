package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Role is what an account may do.
type Role string

// Roles. Instructors see the cohort; admins also manage roles.
const (
	RoleStudent    Role = "student"
	RoleInstructor Role = "instructor"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleStudent || r == RoleInstructor || r == RoleAdmin
}

// CanTeach reports whether the role may see other users' progress.
func (r Role) CanTeach() bool { return r == RoleInstructor || r == RoleAdmin }

// User is an account.
type User struct {
	ID           int64
	Email        string
	Role         Role
	PasswordHash []byte
	CreatedAt    time.Time
}

// CreateUser adds an account. The first account ever created is an admin,
// every later one a student.
func (s *Store) CreateUser(ctx context.Context, email string, passwordHash []byte) (*User, error) {
	email = strings.TrimSpace(email)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	role := RoleStudent
	if n == 0 {
		role = RoleAdmin
	}
	now := s.now()
	res, err := tx.ExecContext(ctx, `INSERT INTO users (email, password_hash, role, created_at) VALUES (?, ?, ?, ?)`,
		email, passwordHash, string(role), now)
	if err != nil {
		var se sqlite3.Error
		if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
			return nil, ErrEmailTaken
		}
		return nil, fmt.Errorf("create account: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	return &User{ID: id, Email: email, Role: role, PasswordHash: passwordHash, CreatedAt: fromMillis(now)}, nil
}

const userColumns = `id, email, role, password_hash, created_at`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var role string
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &role, &u.PasswordHash, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	u.Role = Role(role)
	u.CreatedAt = fromMillis(created)
	return &u, nil
}

// UserByEmail finds an account by email, ignoring case.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, strings.TrimSpace(email)))
}

// User finds an account by id.
func (s *Store) User(ctx context.Context, id int64) (*User, error) {
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// Users lists every account, oldest first.
func (s *Store) Users(ctx context.Context) ([]*User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetRole changes an account's role.
func (s *Store) SetRole(ctx context.Context, id int64, role Role) error {
	if !role.Valid() {
		return fmt.Errorf("unknown role %q", role)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, string(role), id)
	if err != nil {
		return fmt.Errorf("set role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// CreateSession records a session under the hash of its token.
func (s *Store) CreateSession(ctx context.Context, userID int64, tokenHash []byte, expires time.Time) error {
	now := s.now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`,
		tokenHash, userID, now, expires.UnixMilli(), now)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// sessionTouchEvery is how stale a session's last use may be recorded, so
// that reading a session is not a write every time.
const sessionTouchEvery = time.Minute

// SessionUser returns the account of the session with this token hash and
// when the session expires: ErrNotFound when there is none, ErrExpired when
// it has expired or, with idle > 0, has not been used for idle (it is then
// deleted). It records the use.
func (s *Store) SessionUser(ctx context.Context, tokenHash []byte, idle time.Duration) (*User, time.Time, error) {
	row := s.db.QueryRowContext(ctx, `SELECT u.id, u.email, u.role, u.password_hash, u.created_at, s.expires_at, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, tokenHash)
	var u User
	var role string
	var created, expires, seen int64
	if err := row.Scan(&u.ID, &u.Email, &role, &u.PasswordHash, &created, &expires, &seen); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, time.Time{}, ErrNotFound
		}
		return nil, time.Time{}, fmt.Errorf("look up session: %w", err)
	}
	u.Role = Role(role)
	u.CreatedAt = fromMillis(created)
	now := s.now()
	if expires <= now || idle > 0 && seen+idle.Milliseconds() <= now {
		_ = s.DeleteSession(ctx, tokenHash)
		return nil, time.Time{}, ErrExpired
	}
	if now-seen >= sessionTouchEvery.Milliseconds() {
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`, now, tokenHash); err != nil {
			return nil, time.Time{}, fmt.Errorf("record session use: %w", err)
		}
	}
	return &u, fromMillis(expires), nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry and, with
// idle > 0, those not used for idle.
func (s *Store) DeleteExpiredSessions(ctx context.Context, idle time.Duration) (int64, error) {
	now := s.now()
	q, args := `DELETE FROM sessions WHERE expires_at <= ?`, []any{now}
	if idle > 0 {
		q, args = q+` OR last_seen_at <= ?`, append(args, now-idle.Milliseconds())
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// DeleteUserSessions ends every session of an account.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}
