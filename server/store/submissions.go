package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// JobStatus is where a submission is in grading.
type JobStatus string

// Statuses of a grading job.
const (
	JobQueued  JobStatus = "queued"
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
)

// Submission is one answer to an exercise, and its grading job.
type Submission struct {
	ID       int64
	UserID   int64
	Exercise string
	// Attempt numbers a student's submissions to one exercise: 1, 2, 3 …
	Attempt int
	Seed    int64
	Body    []byte
	Status  JobStatus
	// Verdict is pass, fail or error once done.
	Verdict string
	Score   float64
	// Counted is false for results the grader could not judge.
	Counted    bool
	Reason     string
	Result     []byte // the grader's Result as JSON
	Runs       int    // how many times a worker took the job
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// Outcome is the end of a grading as the store records it.
type Outcome struct {
	Node    string // the grader node, when one graded it
	Verdict string // pass, fail or error
	Score   float64
	Counted bool
	Reason  string
	Result  []byte
}

const submissionColumns = `id, user_id, exercise, seed, body, status, COALESCE(verdict, ''), COALESCE(score, 0), counted,
	reason, COALESCE(result, ''), runs, created_at, COALESCE(started_at, 0), COALESCE(finished_at, 0), attempt`

func scanSubmission(row interface{ Scan(...any) error }) (*Submission, error) {
	var sub Submission
	var status, result string
	var created, started, finished int64
	err := row.Scan(&sub.ID, &sub.UserID, &sub.Exercise, &sub.Seed, &sub.Body, &status, &sub.Verdict, &sub.Score,
		&sub.Counted, &sub.Reason, &result, &sub.Runs, &created, &started, &finished, &sub.Attempt)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	sub.Status = JobStatus(status)
	if result != "" {
		sub.Result = []byte(result)
	}
	sub.CreatedAt, sub.StartedAt, sub.FinishedAt = fromMillis(created), fromMillis(started), fromMillis(finished)
	return &sub, nil
}

// CreateSubmission stores a submission as a queued grading job.
func (s *Store) CreateSubmission(ctx context.Context, userID int64, exercise string, seed int64, body []byte) (*Submission, error) {
	now := s.now()
	if body == nil {
		body = []byte{}
	}
	// The attempt number is counted in the same statement as the insert, so
	// two submissions at once cannot get the same number.
	var id int64
	var attempt int
	err := s.db.QueryRowContext(ctx, `INSERT INTO submissions (user_id, exercise, seed, body, status, created_at, attempt)
		VALUES (?, ?, ?, ?, 'queued', ?, (SELECT COUNT(*) + 1 FROM submissions WHERE user_id = ? AND exercise = ?))
		RETURNING id, attempt`,
		userID, exercise, seed, body, now, userID, exercise).Scan(&id, &attempt)
	if err != nil {
		return nil, fmt.Errorf("store submission: %w", err)
	}
	return &Submission{ID: id, UserID: userID, Exercise: exercise, Attempt: attempt, Seed: seed, Body: body, Status: JobQueued, CreatedAt: fromMillis(now)}, nil
}

// Submission returns one submission.
func (s *Store) Submission(ctx context.Context, id int64) (*Submission, error) {
	sub, err := scanSubmission(s.db.QueryRowContext(ctx, `SELECT `+submissionColumns+` FROM submissions WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("read submission: %w", err)
	}
	return sub, err
}

// Submissions lists a user's submissions to an exercise, newest first.
func (s *Store) Submissions(ctx context.Context, userID int64, exercise string, limit int) ([]*Submission, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+submissionColumns+` FROM submissions WHERE user_id = ? AND exercise = ?
		ORDER BY id DESC LIMIT ?`, userID, exercise, limit)
	if err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	defer rows.Close()
	var out []*Submission
	for rows.Next() {
		sub, err := scanSubmission(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// ClaimJob takes the oldest queued job and marks it running. It returns
// ErrNotFound when the queue is empty.
func (s *Store) ClaimJob(ctx context.Context) (*Submission, error) {
	row := s.db.QueryRowContext(ctx, `UPDATE submissions SET status = 'running', started_at = ?, runs = runs + 1
		WHERE id = (SELECT id FROM submissions WHERE status = 'queued' ORDER BY id LIMIT 1)
		RETURNING `+submissionColumns, s.now())
	sub, err := scanSubmission(row)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("claim grading job: %w", err)
	}
	return sub, err
}

// FinishJob records the outcome of a running job.
func (s *Store) FinishJob(ctx context.Context, id int64, o Outcome) error {
	res, err := s.db.ExecContext(ctx, `UPDATE submissions SET status = 'done', verdict = ?, score = ?, counted = ?, reason = ?,
		result = ?, finished_at = ? WHERE id = ? AND status = 'running'`,
		o.Verdict, o.Score, o.Counted, o.Reason, string(o.Result), s.now(), id)
	if err != nil {
		return fmt.Errorf("record grading result: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RequeueJob puts a running job back in the queue, as when the server stops
// before its grading finished.
func (s *Store) RequeueJob(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE submissions SET status = 'queued', started_at = NULL WHERE id = ? AND status = 'running'`, id)
	if err != nil {
		return fmt.Errorf("requeue grading job: %w", err)
	}
	return nil
}

// RequeueInterrupted queues again every job left running, which at start-up
// means the previous process stopped in the middle of it.
func (s *Store) RequeueInterrupted(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE submissions SET status = 'queued', started_at = NULL WHERE status = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("requeue interrupted jobs: %w", err)
	}
	return res.RowsAffected()
}

// QueuePosition returns how many queued jobs are ahead of this one.
func (s *Store) QueuePosition(ctx context.Context, id int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM submissions WHERE status = 'queued' AND id < ?`, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue position: %w", err)
	}
	return n, nil
}

// QueueDepth counts queued and running jobs.
func (s *Store) QueueDepth(ctx context.Context) (queued, running int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(status = 'queued'), 0), COALESCE(SUM(status = 'running'), 0) FROM submissions WHERE status != 'done'`).Scan(&queued, &running)
	if err != nil {
		err = fmt.Errorf("queue depth: %w", err)
	}
	return
}

// PendingCount counts a user's submissions waiting for or in grading.
func (s *Store) PendingCount(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM submissions WHERE user_id = ? AND status != 'done'`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending submissions: %w", err)
	}
	return n, nil
}

// QueueStats is the state of the grading queue.
type QueueStats struct {
	Queued, Running int
	// OldestQueued is when the longest-waiting queued job was submitted;
	// zero when none waits.
	OldestQueued time.Time
}

// Queue reads the state of the grading queue in one statement (it is read
// at every metrics scrape; submissions_queue covers it).
func (s *Store) Queue(ctx context.Context) (QueueStats, error) {
	var q QueueStats
	var oldest int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(status = 'queued'), 0), COALESCE(SUM(status = 'running'), 0),
		COALESCE(MIN(CASE WHEN status = 'queued' THEN created_at END), 0) FROM submissions WHERE status != 'done'`).Scan(&q.Queued, &q.Running, &oldest)
	if err != nil {
		return q, fmt.Errorf("queue: %w", err)
	}
	q.OldestQueued = fromMillis(oldest)
	return q, nil
}
