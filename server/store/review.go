package store

import (
	"context"
	"fmt"
	"time"
)

// Attempt is one submission as an instructor reviews it.
type Attempt struct {
	ID         int64
	Exercise   string
	Status     JobStatus
	Verdict    string
	Score      float64
	Counted    bool
	CreatedAt  time.Time
	FinishedAt time.Time
	// Late: made after the student's due date for the exercise.
	Late bool
}

// Attempts lists every submission of a student, newest first, with
// whether each was late.
func (s *Store) Attempts(ctx context.Context, userID int64) ([]Attempt, error) {
	due, err := s.DueDates(ctx, userID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, exercise, status, COALESCE(verdict, ''), COALESCE(score, 0), counted, created_at, COALESCE(finished_at, 0)
		FROM submissions WHERE user_id = ? ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var status string
		var created, finished int64
		if err := rows.Scan(&a.ID, &a.Exercise, &status, &a.Verdict, &a.Score, &a.Counted, &created, &finished); err != nil {
			return nil, err
		}
		a.Status, a.CreatedAt, a.FinishedAt = JobStatus(status), fromMillis(created), fromMillis(finished)
		if d, ok := due[a.Exercise]; ok && a.CreatedAt.After(d) {
			a.Late = true
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
