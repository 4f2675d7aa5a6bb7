package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Certificate says that someone completed the course.
type Certificate struct {
	Code     string
	UserID   int64
	Name     string
	Course   string
	IssuedAt time.Time
	Scores   []CertificateScore
}

// CertificateScore is one exercise's best score on a certificate.
type CertificateScore struct {
	Exercise string  `json:"exercise"`
	Title    string  `json:"title"`
	Score    float64 `json:"score"`
}

// IssueCertificate records a certificate for c.UserID, or returns the one
// the user already has (a user has at most one).
func (s *Store) IssueCertificate(ctx context.Context, c Certificate) (*Certificate, error) {
	scores, err := json.Marshal(c.Scores)
	if err != nil {
		return nil, err
	}
	var out *Certificate
	err = s.inTx(ctx, "issue certificate", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO certificates (code, user_id, name, course, issued_at, scores) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO NOTHING`, c.Code, c.UserID, c.Name, c.Course, s.now(), string(scores)); err != nil {
			return fmt.Errorf("issue certificate: %w", err)
		}
		out, err = scanCertificate(tx.QueryRowContext(ctx, `SELECT `+certColumns+` FROM certificates WHERE user_id = ?`, c.UserID))
		return err
	})
	return out, err
}

const certColumns = `code, user_id, name, course, issued_at, scores`

func scanCertificate(row *sql.Row) (*Certificate, error) {
	var c Certificate
	var at int64
	var scores string
	if err := row.Scan(&c.Code, &c.UserID, &c.Name, &c.Course, &at, &scores); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	c.IssuedAt = fromMillis(at)
	if err := json.Unmarshal([]byte(scores), &c.Scores); err != nil {
		return nil, fmt.Errorf("read certificate scores: %w", err)
	}
	return &c, nil
}

// CertificateByCode finds a certificate by its verification code.
func (s *Store) CertificateByCode(ctx context.Context, code string) (*Certificate, error) {
	return scanCertificate(s.db.QueryRowContext(ctx, `SELECT `+certColumns+` FROM certificates WHERE code = ?`, code))
}

// CertificateOf finds a user's certificate.
func (s *Store) CertificateOf(ctx context.Context, userID int64) (*Certificate, error) {
	return scanCertificate(s.db.QueryRowContext(ctx, `SELECT `+certColumns+` FROM certificates WHERE user_id = ?`, userID))
}
