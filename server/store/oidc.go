package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// OIDCIdentity is who a provider says signed in. The email must already be
// verified by the provider.
type OIDCIdentity struct {
	Issuer, Subject string
	Email, Name     string
	// Role is the least role the provider's groups give (student when
	// none); an account is raised to it, never lowered.
	Role Role
}

// SignInOIDC finds the account of a provider identity: the one linked to
// it, else the one with the same (verified) email, which is then linked,
// else a new account. All of it happens in one transaction. A deactivated
// account gets ErrDeactivated.
func (s *Store) SignInOIDC(ctx context.Context, id OIDCIdentity) (*User, error) {
	if id.Issuer == "" || id.Subject == "" || id.Email == "" {
		return nil, fmt.Errorf("%w: the identity lacks an issuer, a subject or an email", ErrInvalid)
	}
	if !id.Role.Valid() {
		id.Role = RoleStudent
	}
	return s.withUser(ctx, "sign in with the identity provider", func(tx *sql.Tx) (int64, error) {
		now := s.now()
		var uid int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM oidc_identities WHERE issuer = ? AND subject = ?`, id.Issuer, id.Subject).Scan(&uid)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, strings.TrimSpace(id.Email)))
			switch {
			case errors.Is(err, ErrNotFound):
				if uid, err = insertUser(ctx, tx, now, NewAccount{Email: id.Email, Name: id.Name, Role: RoleStudent}); err != nil {
					return 0, err
				}
			case err != nil:
				return 0, err
			default:
				uid = u.ID
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)`,
				id.Issuer, id.Subject, uid, now); err != nil {
				return 0, fmt.Errorf("link identity: %w", err)
			}
		case err != nil:
			return 0, fmt.Errorf("look up identity: %w", err)
		}
		u, err := userTx(ctx, tx, uid)
		if err != nil {
			return 0, err
		}
		if !u.Active() {
			return 0, ErrDeactivated
		}
		if rank(id.Role) > rank(u.Role) {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, string(id.Role), uid); err != nil {
				return 0, fmt.Errorf("set role: %w", err)
			}
			if err := s.audit(ctx, tx, Actor{Email: "(identity provider)"}, AuditRoleChange, u, string(u.Role)+" → "+string(id.Role)+" from the provider's groups"); err != nil {
				return 0, err
			}
		}
		if u.Name == "" && strings.TrimSpace(id.Name) != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, strings.TrimSpace(id.Name), uid); err != nil {
				return 0, fmt.Errorf("set name: %w", err)
			}
		}
		return uid, nil
	})
}

func rank(r Role) int {
	switch r {
	case RoleAdmin:
		return 2
	case RoleInstructor:
		return 1
	}
	return 0
}
