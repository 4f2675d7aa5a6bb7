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

// Group is a cohort of students with its own start and due dates.
type Group struct {
	ID        int64
	Name      string
	JoinToken string // the secret part of the join link
	StartsAt  time.Time
	CreatedAt time.Time
}

// ErrGroupTaken: a group with this name exists.
var ErrGroupTaken = errors.New("a group with this name already exists")

const groupColumns = `id, name, join_token, COALESCE(starts_at, 0), created_at`

func scanGroup(row interface{ Scan(...any) error }) (*Group, error) {
	var g Group
	var starts, created int64
	if err := row.Scan(&g.ID, &g.Name, &g.JoinToken, &starts, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	g.StartsAt, g.CreatedAt = fromMillis(starts), fromMillis(created)
	return &g, nil
}

// CreateGroup adds a group; joinToken is the secret of its join link.
func (s *Store) CreateGroup(ctx context.Context, by Actor, name, joinToken string, starts time.Time) (*Group, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, fmt.Errorf("%w: a group name has 1 to 100 characters", ErrInvalid)
	}
	var g *Group
	err := s.inTx(ctx, "create group", func(tx *sql.Tx) error {
		var st any
		if !starts.IsZero() {
			st = starts.UnixMilli()
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO groups (name, join_token, starts_at, created_at) VALUES (?, ?, ?, ?)`, name, joinToken, st, s.now())
		if err != nil {
			var se sqlite3.Error
			if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
				return ErrGroupTaken
			}
			return fmt.Errorf("create group: %w", err)
		}
		id, _ := res.LastInsertId()
		if g, err = scanGroup(tx.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.audit(ctx, tx, by, AuditGroupCreate, nil, name)
	})
	return g, err
}

// Groups lists every group by name.
func (s *Store) Groups(ctx context.Context) ([]*Group, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+groupColumns+` FROM groups ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	var out []*Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// GroupByID finds a group.
func (s *Store) GroupByID(ctx context.Context, id int64) (*Group, error) {
	return scanGroup(s.db.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE id = ?`, id))
}

// GroupByName finds a group, ignoring case.
func (s *Store) GroupByName(ctx context.Context, name string) (*Group, error) {
	return scanGroup(s.db.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE name = ?`, strings.TrimSpace(name)))
}

// GroupByJoinToken finds the group of a join link.
func (s *Store) GroupByJoinToken(ctx context.Context, token string) (*Group, error) {
	return scanGroup(s.db.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE join_token = ?`, token))
}

// SetUserGroup puts an account into a group (0: none), recording who did
// it; a student joining by link is their own actor.
func (s *Store) SetUserGroup(ctx context.Context, by Actor, userID, groupID int64) error {
	return s.inTx(ctx, "set group", func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		var gid any
		name := "(none)"
		if groupID != 0 {
			g, err := scanGroup(tx.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE id = ?`, groupID))
			if err != nil {
				return err
			}
			gid, name = g.ID, g.Name
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET group_id = ? WHERE id = ?`, gid, userID); err != nil {
			return fmt.Errorf("set group: %w", err)
		}
		action := AuditGroupMove
		if by.ID == userID {
			action = AuditGroupJoin
		}
		return s.audit(ctx, tx, by, action, u, name)
	})
}

// SetDeadline sets (or, with a zero due, removes) a group's due date for an
// exercise.
func (s *Store) SetDeadline(ctx context.Context, by Actor, groupID int64, exercise string, due time.Time) error {
	return s.inTx(ctx, "set due date", func(tx *sql.Tx) error {
		g, err := scanGroup(tx.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE id = ?`, groupID))
		if err != nil {
			return err
		}
		detail := g.Name + " " + exercise + " "
		if due.IsZero() {
			_, err = tx.ExecContext(ctx, `DELETE FROM group_deadlines WHERE group_id = ? AND exercise = ?`, groupID, exercise)
			detail += "none"
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO group_deadlines (group_id, exercise, due_at) VALUES (?, ?, ?)
				ON CONFLICT (group_id, exercise) DO UPDATE SET due_at = excluded.due_at`, groupID, exercise, due.UnixMilli())
			detail += due.UTC().Format(time.RFC3339)
		}
		if err != nil {
			return fmt.Errorf("set due date: %w", err)
		}
		return s.audit(ctx, tx, by, AuditDeadline, nil, detail)
	})
}

// Deadlines returns a group's due dates by exercise.
func (s *Store) Deadlines(ctx context.Context, groupID int64) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT exercise, due_at FROM group_deadlines WHERE group_id = ?`, groupID)
	if err != nil {
		return nil, fmt.Errorf("read due dates: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var ex string
		var at int64
		if err := rows.Scan(&ex, &at); err != nil {
			return nil, err
		}
		out[ex] = fromMillis(at)
	}
	return out, rows.Err()
}

// GrantExtension gives one student a later due date for an exercise (a
// zero due removes it).
func (s *Store) GrantExtension(ctx context.Context, by Actor, userID int64, exercise string, due time.Time) error {
	return s.inTx(ctx, "grant extension", func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		detail := exercise + " "
		if due.IsZero() {
			_, err = tx.ExecContext(ctx, `DELETE FROM extensions WHERE user_id = ? AND exercise = ?`, userID, exercise)
			detail += "removed"
		} else {
			var granter any
			if by.ID != 0 {
				granter = by.ID
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO extensions (user_id, exercise, due_at, granted_by, created_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (user_id, exercise) DO UPDATE SET due_at = excluded.due_at, granted_by = excluded.granted_by, created_at = excluded.created_at`,
				userID, exercise, due.UnixMilli(), granter, s.now())
			detail += "until " + due.UTC().Format(time.RFC3339)
		}
		if err != nil {
			return fmt.Errorf("grant extension: %w", err)
		}
		return s.audit(ctx, tx, by, AuditExtension, u, detail)
	})
}

// DueDates returns the due date of each exercise for one student: the
// group's, or the student's extension where there is one.
func (s *Store) DueDates(ctx context.Context, userID int64) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT exercise, due_at FROM (
			SELECT d.exercise, d.due_at FROM users u JOIN group_deadlines d ON d.group_id = u.group_id
			WHERE u.id = ? AND d.exercise NOT IN (SELECT exercise FROM extensions WHERE user_id = ?)
			UNION ALL SELECT exercise, due_at FROM extensions WHERE user_id = ?)`, userID, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("read due dates: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var ex string
		var at int64
		if err := rows.Scan(&ex, &at); err != nil {
			return nil, err
		}
		out[ex] = fromMillis(at)
	}
	return out, rows.Err()
}

// Extensions lists the extensions of a group's students, by user and exercise.
func (s *Store) Extensions(ctx context.Context, groupID int64) (map[int64]map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.user_id, e.exercise, e.due_at FROM extensions e JOIN users u ON u.id = e.user_id WHERE u.group_id = ?`, groupID)
	if err != nil {
		return nil, fmt.Errorf("read extensions: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]time.Time{}
	for rows.Next() {
		var id, at int64
		var ex string
		if err := rows.Scan(&id, &ex, &at); err != nil {
			return nil, err
		}
		if out[id] == nil {
			out[id] = map[string]time.Time{}
		}
		out[id][ex] = fromMillis(at)
	}
	return out, rows.Err()
}
