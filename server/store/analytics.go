package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// ExerciseAnalytics sums up how students fared at one exercise. Only
// counted attempts of students count.
type ExerciseAnalytics struct {
	Exercise string
	Students int // students with a counted attempt
	Attempts int
	Passed   int // students who passed
	// MedianAttempts is the median number of attempts up to and with the
	// first pass, among those who passed; MedianTimeToPass the median time
	// from their first attempt to their first pass.
	MedianAttempts   float64
	MedianTimeToPass time.Duration
	FailingChecks    []CheckFailure // most students first
}

// PassRate is the share of students with an attempt who passed.
func (a ExerciseAnalytics) PassRate() float64 {
	if a.Students == 0 {
		return 0
	}
	return float64(a.Passed) / float64(a.Students)
}

// CheckFailure is a check that failed in counted attempts.
type CheckFailure struct {
	ID, Title string
	Attempts  int     // failed attempts
	Students  int     // students who failed it at least once
	Share     float64 // Students over the exercise's students
}

// QuizMiss is a quiz question and how often students missed it at the
// first try.
type QuizMiss struct {
	Quiz     string
	Answered int
	Missed   int
}

// Share is the part of those who answered that missed it at first.
func (q QuizMiss) Share() float64 {
	if q.Answered == 0 {
		return 0
	}
	return float64(q.Missed) / float64(q.Answered)
}

// Analytics computes, per exercise, attempts, pass rate, median attempts
// and time to pass, and the checks that fail most; and the quiz questions
// missed most at the first try.
func (s *Store) Analytics(ctx context.Context) (map[string]*ExerciseAnalytics, []QuizMiss, error) {
	out := map[string]*ExerciseAnalytics{}
	get := func(ex string) *ExerciseAnalytics {
		if out[ex] == nil {
			out[ex] = &ExerciseAnalytics{Exercise: ex}
		}
		return out[ex]
	}
	rows, err := s.db.QueryContext(ctx, `SELECT s.user_id, s.exercise, s.verdict, s.created_at FROM submissions s
		JOIN users u ON u.id = s.user_id WHERE u.role = 'student' AND s.counted = 1 ORDER BY s.id`)
	if err != nil {
		return nil, nil, fmt.Errorf("read attempts: %w", err)
	}
	type key struct {
		user int64
		ex   string
	}
	type track struct {
		attempts   int
		first      int64
		passedAt   int64
		passedWith int
	}
	tracks := map[key]*track{}
	for rows.Next() {
		var k key
		var verdict string
		var at int64
		if err := rows.Scan(&k.user, &k.ex, &verdict, &at); err != nil {
			rows.Close()
			return nil, nil, err
		}
		t := tracks[k]
		if t == nil {
			t = &track{first: at}
			tracks[k] = t
		}
		t.attempts++
		if verdict == "pass" && t.passedWith == 0 {
			t.passedAt, t.passedWith = at, t.attempts
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	attempts, times := map[string][]float64{}, map[string][]float64{}
	for k, t := range tracks {
		a := get(k.ex)
		a.Students++
		a.Attempts += t.attempts
		if t.passedWith > 0 {
			a.Passed++
			attempts[k.ex] = append(attempts[k.ex], float64(t.passedWith))
			times[k.ex] = append(times[k.ex], float64(t.passedAt-t.first))
		}
	}
	for ex, a := range out {
		a.MedianAttempts = median(attempts[ex])
		a.MedianTimeToPass = time.Duration(median(times[ex])) * time.Millisecond
	}

	rows, err = s.db.QueryContext(ctx, `SELECT s.exercise, json_extract(c.value, '$.id'), MAX(COALESCE(json_extract(c.value, '$.title'), '')),
			COUNT(*), COUNT(DISTINCT s.user_id)
		FROM submissions s JOIN users u ON u.id = s.user_id,
			json_each(CASE WHEN json_valid(s.result) THEN s.result ELSE '{}' END, '$.checks') c
		WHERE u.role = 'student' AND s.counted = 1 AND json_extract(c.value, '$.status') = 'fail'
		GROUP BY 1, 2 ORDER BY 5 DESC, 4 DESC, 2`)
	if err != nil {
		return nil, nil, fmt.Errorf("read failing checks: %w", err)
	}
	for rows.Next() {
		var ex string
		var f CheckFailure
		if err := rows.Scan(&ex, &f.ID, &f.Title, &f.Attempts, &f.Students); err != nil {
			rows.Close()
			return nil, nil, err
		}
		a := get(ex)
		if a.Students > 0 {
			f.Share = float64(f.Students) / float64(a.Students)
		}
		a.FailingChecks = append(a.FailingChecks, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}

	rows, err = s.db.QueryContext(ctx, `SELECT q.quiz, COUNT(*), SUM(CASE WHEN q.tries > 1 OR q.correct = 0 THEN 1 ELSE 0 END)
		FROM quiz_answers q JOIN users u ON u.id = q.user_id WHERE u.role = 'student'
		GROUP BY q.quiz ORDER BY 3 DESC, 1`)
	if err != nil {
		return nil, nil, fmt.Errorf("read quiz answers: %w", err)
	}
	defer rows.Close()
	var quizzes []QuizMiss
	for rows.Next() {
		var q QuizMiss
		if err := rows.Scan(&q.Quiz, &q.Answered, &q.Missed); err != nil {
			return nil, nil, err
		}
		quizzes = append(quizzes, q)
	}
	return out, quizzes, rows.Err()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
