package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// QuizAnswer is a user's latest answer to an inline quiz, and how the
// answers before it went.
type QuizAnswer struct {
	Choices []int
	Correct bool // the latest answer is right
	Tries   int
	// FirstKnown is false for answers recorded before the first try was
	// kept; FirstCorrect is then false too.
	FirstKnown   bool
	FirstCorrect bool // the first answer was right
	EverCorrect  bool // some answer was right
	AnsweredAt   time.Time
}

// ExerciseStats sums up a user's counted attempts at one exercise.
type ExerciseStats struct {
	Attempts int     // gradings that judged the submission
	Best     float64 // best score, 0..1
	Passed   bool
	Pending  int // submissions queued or being graded
}

// Progress is everything one user has done in the course.
type Progress struct {
	Lessons   map[string]time.Time // completed lessons
	Quizzes   map[string]QuizAnswer
	Exercises map[string]ExerciseStats
}

func newProgress() *Progress {
	return &Progress{Lessons: map[string]time.Time{}, Quizzes: map[string]QuizAnswer{}, Exercises: map[string]ExerciseStats{}}
}

// SetLessonComplete marks a lesson complete, or not.
func (s *Store) SetLessonComplete(ctx context.Context, userID int64, lesson string, done bool) error {
	var err error
	if done {
		_, err = s.db.ExecContext(ctx, `INSERT INTO lesson_progress (user_id, lesson, completed_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id, lesson) DO NOTHING`, userID, lesson, s.now())
	} else {
		_, err = s.db.ExecContext(ctx, `DELETE FROM lesson_progress WHERE user_id = ? AND lesson = ?`, userID, lesson)
	}
	if err != nil {
		return fmt.Errorf("record lesson progress: %w", err)
	}
	return nil
}

// RecordQuiz stores a user's answer to a quiz, replacing the previous one
// but keeping whether the first was right and whether any was, and returns
// the record as it now stands.
func (s *Store) RecordQuiz(ctx context.Context, userID int64, quiz string, choices []int, correct bool) (QuizAnswer, error) {
	b, err := json.Marshal(choices)
	if err != nil {
		return QuizAnswer{}, err
	}
	var first sql.NullBool
	var at int64
	a := QuizAnswer{Choices: choices, Correct: correct}
	err = s.db.QueryRowContext(ctx, `INSERT INTO quiz_answers (user_id, quiz, choices, correct, answered_at, first_correct, ever_correct)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, quiz) DO UPDATE SET choices = excluded.choices, correct = excluded.correct,
		tries = quiz_answers.tries + 1, answered_at = excluded.answered_at,
		ever_correct = MAX(quiz_answers.ever_correct, excluded.ever_correct)
		RETURNING tries, first_correct, ever_correct, answered_at`,
		userID, quiz, string(b), correct, s.now(), correct, correct).Scan(&a.Tries, &first, &a.EverCorrect, &at)
	if err != nil {
		return QuizAnswer{}, fmt.Errorf("record quiz answer: %w", err)
	}
	a.FirstKnown, a.FirstCorrect, a.AnsweredAt = first.Valid, first.Bool, fromMillis(at)
	return a, nil
}

// QuizTally sums up one user's quiz answers: how many were answered, right
// at the first try, and right in the end. FirstUnknown counts answers
// recorded before first tries were kept.
type QuizTally struct {
	Answered, FirstTry, Eventually, FirstUnknown int
}

// QuizTallies returns the quiz tally of every user who answered any quiz,
// by user id: the figures a gradebook shows beside each student.
func (s *Store) QuizTallies(ctx context.Context) (map[int64]QuizTally, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, COUNT(*),
			COALESCE(SUM(CASE WHEN first_correct = 1 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(ever_correct), 0),
			COALESCE(SUM(CASE WHEN first_correct IS NULL THEN 1 ELSE 0 END), 0)
		FROM quiz_answers GROUP BY user_id`)
	if err != nil {
		return nil, fmt.Errorf("read quiz tallies: %w", err)
	}
	defer rows.Close()
	out := map[int64]QuizTally{}
	for rows.Next() {
		var id int64
		var t QuizTally
		if err := rows.Scan(&id, &t.Answered, &t.FirstTry, &t.Eventually, &t.FirstUnknown); err != nil {
			return nil, err
		}
		out[id] = t
	}
	return out, rows.Err()
}

// Progress returns one user's progress.
func (s *Store) Progress(ctx context.Context, userID int64) (*Progress, error) {
	all, err := s.progress(ctx, &userID)
	if err != nil {
		return nil, err
	}
	if p := all[userID]; p != nil {
		return p, nil
	}
	return newProgress(), nil
}

// CohortProgress returns the progress of every user who has any, by user id.
func (s *Store) CohortProgress(ctx context.Context) (map[int64]*Progress, error) {
	return s.progress(ctx, nil)
}

func (s *Store) progress(ctx context.Context, userID *int64) (map[int64]*Progress, error) {
	out := map[int64]*Progress{}
	get := func(id int64) *Progress {
		p := out[id]
		if p == nil {
			p = newProgress()
			out[id] = p
		}
		return p
	}
	where, args := "", []any{}
	if userID != nil {
		where, args = " WHERE user_id = ?", []any{*userID}
	}

	rows, err := s.db.QueryContext(ctx, `SELECT user_id, lesson, completed_at FROM lesson_progress`+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read progress: %w", err)
	}
	for rows.Next() {
		var id, at int64
		var lesson string
		if err := rows.Scan(&id, &lesson, &at); err != nil {
			rows.Close()
			return nil, err
		}
		get(id).Lessons[lesson] = fromMillis(at)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = s.db.QueryContext(ctx, `SELECT user_id, quiz, choices, correct, tries, first_correct, ever_correct, answered_at FROM quiz_answers`+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read quiz answers: %w", err)
	}
	for rows.Next() {
		var id, at int64
		var quiz, choices string
		var a QuizAnswer
		var first sql.NullBool
		if err := rows.Scan(&id, &quiz, &choices, &a.Correct, &a.Tries, &first, &a.EverCorrect, &at); err != nil {
			rows.Close()
			return nil, err
		}
		a.FirstKnown, a.FirstCorrect = first.Valid, first.Bool
		_ = json.Unmarshal([]byte(choices), &a.Choices)
		a.AnsweredAt = fromMillis(at)
		get(id).Quizzes[quiz] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = s.db.QueryContext(ctx, `SELECT user_id, exercise,
			COALESCE(SUM(counted), 0),
			COALESCE(MAX(CASE WHEN counted = 1 THEN score END), 0),
			COALESCE(MAX(CASE WHEN counted = 1 AND verdict = 'pass' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status != 'done' THEN 1 ELSE 0 END), 0)
		FROM submissions`+where+` GROUP BY user_id, exercise`, args...)
	if err != nil {
		return nil, fmt.Errorf("read exercise scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ex string
		var st ExerciseStats
		if err := rows.Scan(&id, &ex, &st.Attempts, &st.Best, &st.Passed, &st.Pending); err != nil {
			return nil, err
		}
		get(id).Exercises[ex] = st
	}
	return out, rows.Err()
}
