package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Lifetimes of one-time links.
const (
	InviteTTL = 7 * 24 * time.Hour
	ResetTTL  = 24 * time.Hour
	SetupTTL  = 7 * 24 * time.Hour
)

// LinkKind is what a one-time link does.
type LinkKind string

// The kinds of one-time link.
const (
	LinkInvite LinkKind = "invite" // an invited account sets its password
	LinkReset  LinkKind = "reset"  // an account sets a new password
	LinkSetup  LinkKind = "setup"  // the first admin creates their account
)

// UserFilter narrows FindUsers; zero fields do not filter.
type UserFilter struct {
	Query   string // part of the email or the name
	Role    Role
	Status  string // "active", "deactivated" or "invited"
	GroupID int64  // -1: in no group
}

// FindUsers lists the accounts that match f, oldest first.
func (s *Store) FindUsers(ctx context.Context, f UserFilter) ([]*User, error) {
	var where []string
	var args []any
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
		where, args = append(where, `(email LIKE ? ESCAPE '\' OR name LIKE ? ESCAPE '\')`), append(args, like, like)
	}
	if f.Role != "" {
		where, args = append(where, `role = ?`), append(args, string(f.Role))
	}
	switch f.Status {
	case "":
	case "active":
		where = append(where, `deactivated_at IS NULL AND length(password_hash) > 0`)
	case "deactivated":
		where = append(where, `deactivated_at IS NOT NULL`)
	case "invited":
		where = append(where, `deactivated_at IS NULL AND length(password_hash) = 0`)
	default:
		return nil, fmt.Errorf("%w: unknown account status %q", ErrInvalid, f.Status)
	}
	switch {
	case f.GroupID > 0:
		where, args = append(where, `group_id = ?`), append(args, f.GroupID)
	case f.GroupID < 0:
		where = append(where, `group_id IS NULL`)
	}
	q := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id`, args...)
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

func userTx(ctx context.Context, tx *sql.Tx, id int64) (*User, error) {
	return scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// otherActiveAdmins counts the active admins other than id.
func otherActiveAdmins(ctx context.Context, tx *sql.Tx, id int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND deactivated_at IS NULL AND id != ?`, id).Scan(&n)
	return n, err
}

// HasAdmin reports whether an active admin exists.
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND deactivated_at IS NULL`).Scan(&n); err != nil {
		return false, fmt.Errorf("look for an admin: %w", err)
	}
	return n > 0, nil
}

// ChangeRole gives an account another role. The last active admin keeps
// the role, so the server always has one.
func (s *Store) ChangeRole(ctx context.Context, by Actor, id int64, role Role) error {
	if !role.Valid() {
		return fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	}
	return s.inTx(ctx, "set role", func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Role == role {
			return nil
		}
		if u.Role == RoleAdmin {
			if n, err := otherActiveAdmins(ctx, tx, id); err != nil {
				return err
			} else if n == 0 {
				return ErrLastAdmin
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, string(role), id); err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		return s.audit(ctx, tx, by, AuditRoleChange, u, string(u.Role)+" → "+string(role))
	})
}

// SetActive deactivates an account (its sessions end at once, in the same
// transaction) or reactivates it.
func (s *Store) SetActive(ctx context.Context, by Actor, id int64, active bool) error {
	return s.inTx(ctx, "change account", func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Active() == active {
			return nil
		}
		if !active {
			if u.Role == RoleAdmin {
				if n, err := otherActiveAdmins(ctx, tx, id); err != nil {
					return err
				} else if n == 0 {
					return ErrLastAdmin
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE users SET deactivated_at = ? WHERE id = ?`, s.now(), id); err != nil {
				return fmt.Errorf("deactivate: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE account_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, s.now(), id); err != nil {
				return fmt.Errorf("cancel links: %w", err)
			}
			return s.audit(ctx, tx, by, AuditDeactivate, u, "")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET deactivated_at = NULL WHERE id = ?`, id); err != nil {
			return fmt.Errorf("reactivate: %w", err)
		}
		return s.audit(ctx, tx, by, AuditReactivate, u, "")
	})
}

// Invite creates an account without a password and the invitation link
// that lets its owner set one (one use, InviteTTL).
func (s *Store) Invite(ctx context.Context, by Actor, a NewAccount, tokenHash []byte) (*User, error) {
	a.PasswordHash = nil
	var u *User
	err := s.inTx(ctx, "invite", func(tx *sql.Tx) error {
		id, err := insertUser(ctx, tx, s.now(), a)
		if err != nil {
			return err
		}
		if u, err = userTx(ctx, tx, id); err != nil {
			return err
		}
		if err := s.insertLink(ctx, tx, by, LinkInvite, id, tokenHash, InviteTTL); err != nil {
			return err
		}
		return s.audit(ctx, tx, by, AuditInvite, u, "role "+string(a.Role))
	})
	return u, err
}

// Reinvite replaces an invited account's invitation with a new link.
func (s *Store) Reinvite(ctx context.Context, by Actor, id int64, tokenHash []byte) error {
	return s.newLinkFor(ctx, by, id, LinkInvite, tokenHash, InviteTTL, AuditInvite)
}

// ResetLink makes a one-time password-reset link for an account (ResetTTL);
// earlier unused reset links of the account stop working.
func (s *Store) ResetLink(ctx context.Context, by Actor, id int64, tokenHash []byte) error {
	return s.newLinkFor(ctx, by, id, LinkReset, tokenHash, ResetTTL, AuditResetLink)
}

func (s *Store) newLinkFor(ctx context.Context, by Actor, id int64, kind LinkKind, tokenHash []byte, ttl time.Duration, action string) error {
	return s.inTx(ctx, "make link", func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if !u.Active() {
			return ErrDeactivated
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account_links SET used_at = ? WHERE user_id = ? AND kind = ? AND used_at IS NULL`, s.now(), id, string(kind)); err != nil {
			return fmt.Errorf("cancel earlier links: %w", err)
		}
		if err := s.insertLink(ctx, tx, by, kind, id, tokenHash, ttl); err != nil {
			return err
		}
		return s.audit(ctx, tx, by, action, u, "")
	})
}

// SetupLink makes the one-time link that creates the first admin, while
// the server has none; earlier setup links stop working. It returns false
// (and makes nothing) when an active admin exists.
func (s *Store) SetupLink(ctx context.Context, tokenHash []byte) (bool, error) {
	made := false
	err := s.inTx(ctx, "make setup link", func(tx *sql.Tx) error {
		if n, err := otherActiveAdmins(ctx, tx, 0); err != nil {
			return err
		} else if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account_links SET used_at = ? WHERE kind = 'setup' AND used_at IS NULL`, s.now()); err != nil {
			return fmt.Errorf("cancel earlier setup links: %w", err)
		}
		made = true
		if err := s.insertLink(ctx, tx, Actor{}, LinkSetup, 0, tokenHash, SetupTTL); err != nil {
			return err
		}
		return s.audit(ctx, tx, Actor{}, AuditSetupLink, nil, "")
	})
	return made, err
}

func (s *Store) insertLink(ctx context.Context, tx *sql.Tx, by Actor, kind LinkKind, userID int64, tokenHash []byte, ttl time.Duration) error {
	var uid, creator any
	if userID != 0 {
		uid = userID
	}
	if by.ID != 0 {
		creator = by.ID
	}
	now := s.Now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_links (token_hash, kind, user_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		tokenHash, string(kind), uid, creator, now.UnixMilli(), now.Add(ttl).UnixMilli()); err != nil {
		return fmt.Errorf("store link: %w", err)
	}
	return nil
}

// Link is a one-time link that can still be used.
type Link struct {
	Kind    LinkKind
	User    *User // nil for a setup link
	Expires time.Time
}

// PeekLink returns a usable link of the kind, without using it:
// ErrLinkInvalid when it is unknown, used or expired.
func (s *Store) PeekLink(ctx context.Context, tokenHash []byte, kind LinkKind) (*Link, error) {
	var uid, expires int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(user_id, 0), expires_at FROM account_links
		WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?`, tokenHash, string(kind), s.now()).Scan(&uid, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("look up link: %w", err)
	}
	l := &Link{Kind: kind, Expires: fromMillis(expires)}
	if uid != 0 {
		if l.User, err = s.User(ctx, uid); err != nil {
			return nil, err
		}
		if !l.User.Active() {
			return nil, ErrDeactivated
		}
	}
	return l, nil
}

// UseLink uses a one-time link: it sets the password of the link's account
// (an invitation or a reset; a reset also ends every session of the
// account) or, for the setup link, creates the first admin from a (only
// while the server has no active admin: that decision is taken in the
// same transaction). The link cannot be used again.
func (s *Store) UseLink(ctx context.Context, tokenHash []byte, kind LinkKind, passwordHash []byte, a NewAccount) (*User, error) {
	if len(passwordHash) == 0 {
		return nil, fmt.Errorf("%w: a password is needed", ErrInvalid)
	}
	return s.withUser(ctx, "use link", func(tx *sql.Tx) (int64, error) {
		now := s.now()
		var uid int64
		err := tx.QueryRowContext(ctx, `UPDATE account_links SET used_at = ? WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?
			RETURNING COALESCE(user_id, 0)`, now, tokenHash, string(kind), now).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrLinkInvalid
		}
		if err != nil {
			return 0, fmt.Errorf("use link: %w", err)
		}
		if kind == LinkSetup {
			if n, err := otherActiveAdmins(ctx, tx, 0); err != nil {
				return 0, err
			} else if n > 0 {
				return 0, ErrLinkInvalid
			}
			a.Role, a.PasswordHash = RoleAdmin, passwordHash
			id, err := insertUser(ctx, tx, now, a)
			if err != nil {
				return 0, err
			}
			u, err := userTx(ctx, tx, id)
			if err != nil {
				return 0, err
			}
			return id, s.audit(ctx, tx, ActorOf(u), AuditSetupUsed, u, "first admin")
		}
		u, err := userTx(ctx, tx, uid)
		if err != nil {
			return 0, err
		}
		if !u.Active() {
			return 0, ErrDeactivated
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, uid); err != nil {
			return 0, fmt.Errorf("set password: %w", err)
		}
		if strings.TrimSpace(a.Name) != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, strings.TrimSpace(a.Name), uid); err != nil {
				return 0, fmt.Errorf("set name: %w", err)
			}
		}
		if kind == LinkReset {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, uid); err != nil {
				return 0, fmt.Errorf("end sessions: %w", err)
			}
		}
		return uid, nil
	})
}

// ChangePassword sets a new password for a signed-in user and ends every
// other session of the account; keep is the token hash of the session
// that stays.
func (s *Store) ChangePassword(ctx context.Context, id int64, passwordHash, keep []byte) error {
	return s.inTx(ctx, "change password", func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash != ?`, id, keep); err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		return s.audit(ctx, tx, ActorOf(u), AuditPasswordChange, u, "")
	})
}

// SignOutEverywhere ends every session of an account.
func (s *Store) SignOutEverywhere(ctx context.Context, id int64) error {
	return s.inTx(ctx, "sign out everywhere", func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return s.audit(ctx, tx, ActorOf(u), AuditSignOutAll, u, "")
	})
}
