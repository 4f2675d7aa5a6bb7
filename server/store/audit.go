package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Actor is who does something the audit log records; the zero Actor is the
// system itself (a command on the server's machine).
type Actor struct {
	ID    int64
	Email string
}

// ActorOf is the actor for a signed-in user.
func ActorOf(u *User) Actor {
	if u == nil {
		return Actor{}
	}
	return Actor{ID: u.ID, Email: u.Email}
}

// Audit actions.
const (
	AuditRoleChange     = "role.change"
	AuditDeactivate     = "account.deactivate"
	AuditReactivate     = "account.reactivate"
	AuditInvite         = "account.invite"
	AuditResetLink      = "account.reset-link"
	AuditSetupLink      = "account.setup-link"
	AuditSetupUsed      = "account.setup"
	AuditPasswordChange = "account.password-change"
	AuditExtension      = "deadline.extension"
	AuditDeadline       = "deadline.set"
	AuditGroupCreate    = "group.create"
	AuditGroupJoin      = "group.join"
	AuditGroupMove      = "group.move"
	AuditExport         = "gradebook.export"
	AuditSignOutAll     = "account.sign-out-everywhere"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID          int64
	At          time.Time
	ActorID     int64
	ActorEmail  string
	Action      string
	TargetID    int64
	TargetEmail string
	Detail      string
}

// audit records an entry inside the transaction of the change it describes,
// so a change is never without its record nor a record without its change.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, by Actor, action string, target *User, detail string) error {
	var tid any
	temail := ""
	if target != nil {
		tid, temail = target.ID, target.Email
	}
	var aid any
	if by.ID != 0 {
		aid = by.ID
	}
	email := by.Email
	if by.ID == 0 && email == "" {
		email = "(server command)"
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor_id, actor_email, action, target_id, target_email, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.now(), aid, email, action, tid, temail, detail); err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

// Record adds an audit entry for something that changes nothing in the
// store (an export).
func (s *Store) Record(ctx context.Context, by Actor, action string, target *User, detail string) error {
	return s.inTx(ctx, "record audit entry", func(tx *sql.Tx) error { return s.audit(ctx, tx, by, action, target, detail) })
}

// AuditLog lists the newest entries first; limit <= 0 lists all.
func (s *Store) AuditLog(ctx context.Context, action string, limit int) ([]AuditEntry, error) {
	q, args := `SELECT id, at, COALESCE(actor_id, 0), actor_email, action, COALESCE(target_id, 0), target_email, detail FROM audit_log`, []any{}
	if action != "" {
		q, args = q+` WHERE action = ?`, append(args, action)
	}
	q += ` ORDER BY id DESC`
	if limit > 0 {
		q, args = q+` LIMIT ?`, append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.ActorEmail, &e.Action, &e.TargetID, &e.TargetEmail, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// inTx runs fn in a write transaction.
func (s *Store) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
