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

// Roles. Instructors see the cohort; admins also manage accounts.
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
	Name         string
	Role         Role
	PasswordHash []byte // empty while an invitation is not yet used
	CreatedAt    time.Time
	// DeactivatedAt is when an admin deactivated the account; zero while
	// it is active. A deactivated account cannot sign in.
	DeactivatedAt time.Time
	GroupID       int64 // 0: in no group
}

// Active reports whether the account may sign in.
func (u *User) Active() bool { return u.DeactivatedAt.IsZero() }

// Invited reports whether the account was invited and has not set a
// password yet.
func (u *User) Invited() bool { return len(u.PasswordHash) == 0 }

// DisplayName is the name, or the email when there is none.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// CreateUser adds a student account with a password, as tests and tools
// need it; visitors go through SignUp, admins through Invite.
func (s *Store) CreateUser(ctx context.Context, email string, passwordHash []byte) (*User, error) {
	return s.withUser(ctx, "create account", func(tx *sql.Tx) (int64, error) {
		return insertUser(ctx, tx, s.now(), NewAccount{Email: email, Role: RoleStudent, PasswordHash: passwordHash})
	})
}

// SignUp creates a student account for a visitor. Whether sign-up is open
// is decided inside the transaction that creates the account, so that
// concurrent sign-ups see one answer; a visitor never becomes an admin by
// being first (see ClaimSetupLink).
func (s *Store) SignUp(ctx context.Context, email string, passwordHash []byte, open bool) (*User, error) {
	return s.withUser(ctx, "sign up", func(tx *sql.Tx) (int64, error) {
		if !open {
			return 0, ErrSignupClosed
		}
		return insertUser(ctx, tx, s.now(), NewAccount{Email: email, Role: RoleStudent, PasswordHash: passwordHash})
	})
}

// NewAccount is what creating an account needs.
type NewAccount struct {
	Email        string
	Name         string
	Role         Role
	PasswordHash []byte // nil for an invited account
	GroupID      int64
}

// withUser runs create in a write transaction and returns the account it
// created.
func (s *Store) withUser(ctx context.Context, what string, create func(*sql.Tx) (int64, error)) (*User, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	id, err := create(tx)
	if err != nil {
		return nil, err
	}
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return u, nil
}

func insertUser(ctx context.Context, tx *sql.Tx, now int64, a NewAccount) (int64, error) {
	if !a.Role.Valid() {
		return 0, fmt.Errorf("%w: unknown role %q", ErrInvalid, a.Role)
	}
	if a.PasswordHash == nil {
		a.PasswordHash = []byte{}
	}
	var group any
	if a.GroupID != 0 {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM groups WHERE id = ?`, a.GroupID).Scan(&n); err != nil {
			return 0, fmt.Errorf("create account: %w", err)
		}
		if n == 0 {
			return 0, fmt.Errorf("%w: there is no such group", ErrInvalid)
		}
		group = a.GroupID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, password_hash, role, created_at, group_id) VALUES (?, ?, ?, ?, ?, ?)`,
		strings.TrimSpace(a.Email), strings.TrimSpace(a.Name), a.PasswordHash, string(a.Role), now, group)
	if err != nil {
		var se sqlite3.Error
		if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
			return 0, ErrEmailTaken
		}
		return 0, fmt.Errorf("create account: %w", err)
	}
	return res.LastInsertId()
}

const userColumns = `id, email, name, role, password_hash, created_at, COALESCE(deactivated_at, 0), COALESCE(group_id, 0)`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var role string
	var created, deactivated int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &created, &deactivated, &u.GroupID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	u.Role = Role(role)
	u.CreatedAt = fromMillis(created)
	u.DeactivatedAt = fromMillis(deactivated)
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
	return s.FindUsers(ctx, UserFilter{})
}

// SetRole changes an account's role.
func (s *Store) SetRole(ctx context.Context, id int64, role Role) error {
	return s.ChangeRole(ctx, Actor{}, id, role)
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
	row := s.db.QueryRowContext(ctx, `SELECT u.id, u.email, u.name, u.role, u.password_hash, u.created_at, COALESCE(u.group_id, 0), s.expires_at, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND u.deactivated_at IS NULL`, tokenHash)
	var u User
	var role string
	var created, expires, seen int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &created, &u.GroupID, &expires, &seen); err != nil {
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

// DeleteUserSessions ends every session of an account ("sign out
// everywhere"), but the one whose token hash is keep, if given.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep ...[]byte) error {
	q, args := `DELETE FROM sessions WHERE user_id = ?`, []any{userID}
	if len(keep) > 0 && keep[0] != nil {
		q, args = q+` AND token_hash != ?`, append(args, keep[0])
	}
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}
