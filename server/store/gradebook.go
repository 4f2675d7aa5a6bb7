package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// GradebookQuery says which students and which course items a gradebook
// covers. Only the course's current lessons, quizzes and exercises count.
type GradebookQuery struct {
	GroupID   int64 // 0: every student
	Lessons   []string
	Quizzes   []string
	Exercises []string
}

// GradebookRow is one student's line of the gradebook.
type GradebookRow struct {
	UserID          int64
	Email           string
	Name            string
	Group           string
	LessonsDone     int
	QuizzesFirstTry int // quiz answers right at the first try
	Exercises       map[string]GradebookCell
}

// GradebookCell is one student's standing on one exercise.
type GradebookCell struct {
	Best     float64 // best counted score, 0..1
	Attempts int     // counted attempts
	Late     int     // counted attempts made after the student's due date
	Passed   bool
	Due      time.Time // the student's due date; zero when none
}

// Gradebook returns one row per active or invited student, by email. A
// submission is late when it was made after the student's due date: their
// extension if they have one, else their group's due date.
func (s *Store) Gradebook(ctx context.Context, q GradebookQuery) ([]GradebookRow, error) {
	lessons, _ := json.Marshal(nonNil(q.Lessons))
	quizzes, _ := json.Marshal(nonNil(q.Quizzes))
	exercises, _ := json.Marshal(nonNil(q.Exercises))
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read gradebook: %w", err)
	}
	defer tx.Rollback()

	groupWhere, args := "", []any{string(lessons), string(quizzes)}
	if q.GroupID != 0 {
		groupWhere, args = " AND u.group_id = ?", append(args, q.GroupID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT u.id, u.email, u.name, COALESCE(g.name, ''),
			(SELECT COUNT(*) FROM lesson_progress lp WHERE lp.user_id = u.id AND lp.lesson IN (SELECT value FROM json_each(?1))),
			(SELECT COUNT(*) FROM quiz_answers qa WHERE qa.user_id = u.id AND qa.correct = 1 AND qa.tries = 1
				AND qa.quiz IN (SELECT value FROM json_each(?2)))
		FROM users u LEFT JOIN groups g ON g.id = u.group_id
		WHERE u.role = 'student' AND u.deactivated_at IS NULL`+groupWhere+` ORDER BY u.email`, args...)
	if err != nil {
		return nil, fmt.Errorf("read gradebook: %w", err)
	}
	var out []GradebookRow
	index := map[int64]int{}
	for rows.Next() {
		var r GradebookRow
		if err := rows.Scan(&r.UserID, &r.Email, &r.Name, &r.Group, &r.LessonsDone, &r.QuizzesFirstTry); err != nil {
			rows.Close()
			return nil, err
		}
		r.Exercises = map[string]GradebookCell{}
		index[r.UserID] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	// Due dates: an extension wins over the group's date.
	rows, err = tx.QueryContext(ctx, `WITH ex AS (SELECT value AS id FROM json_each(?1)),
		due AS (
			SELECT u.id AS user_id, d.exercise, COALESCE(e.due_at, d.due_at) AS due_at
			FROM users u JOIN group_deadlines d ON d.group_id = u.group_id
			LEFT JOIN extensions e ON e.user_id = u.id AND e.exercise = d.exercise
			UNION ALL
			SELECT e.user_id, e.exercise, e.due_at FROM extensions e JOIN users u ON u.id = e.user_id
			WHERE NOT EXISTS (SELECT 1 FROM group_deadlines d WHERE d.group_id = u.group_id AND d.exercise = e.exercise))
		SELECT due.user_id, due.exercise, due.due_at,
			COALESCE(SUM(s.counted), 0),
			COALESCE(MAX(CASE WHEN s.counted = 1 THEN s.score END), 0),
			COALESCE(MAX(CASE WHEN s.counted = 1 AND s.verdict = 'pass' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN s.counted = 1 AND s.created_at > due.due_at THEN 1 ELSE 0 END), 0)
		FROM due LEFT JOIN submissions s ON s.user_id = due.user_id AND s.exercise = due.exercise
		WHERE due.exercise IN (SELECT id FROM ex)
		GROUP BY due.user_id, due.exercise
		UNION ALL
		SELECT s.user_id, s.exercise, 0, SUM(s.counted),
			COALESCE(MAX(CASE WHEN s.counted = 1 THEN s.score END), 0),
			COALESCE(MAX(CASE WHEN s.counted = 1 AND s.verdict = 'pass' THEN 1 ELSE 0 END), 0), 0
		FROM submissions s
		WHERE s.exercise IN (SELECT id FROM ex)
			AND NOT EXISTS (SELECT 1 FROM due WHERE due.user_id = s.user_id AND due.exercise = s.exercise)
		GROUP BY s.user_id, s.exercise`, string(exercises))
	if err != nil {
		return nil, fmt.Errorf("read gradebook scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, due int64
		var ex string
		var c GradebookCell
		if err := rows.Scan(&id, &ex, &due, &c.Attempts, &c.Best, &c.Passed, &c.Late); err != nil {
			return nil, err
		}
		i, ok := index[id]
		if !ok {
			continue
		}
		c.Due = fromMillis(due)
		out[i].Exercises[ex] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
