package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Errors of the grading queue.
var (
	// ErrTooManyPending: the student already has the most answers waiting.
	ErrTooManyPending = errors.New("too many answers waiting")
	// ErrQueueFull: the server-wide queue is at its cap.
	ErrQueueFull = errors.New("the grading queue is full")
	// ErrStaleLease: an outcome or release named a lease that is no longer
	// the newest (another delivery took the job), or the job is done.
	ErrStaleLease = errors.New("the lease is not the newest")
	// ErrPoison: the job was claimed too many times without an outcome.
	ErrPoison = errors.New("the job failed too often")
)

// SubmitLimited stores a submission as a queued job unless the student has
// perUser answers waiting or the server queueCap; both are counted in the
// insert statement itself, so answers sent at once cannot pass a limit
// together.
func (s *Store) SubmitLimited(ctx context.Context, userID int64, exercise string, seed int64, body []byte, perUser, queueCap int) (*Submission, error) {
	now := s.now()
	if body == nil {
		body = []byte{}
	}
	var id int64
	var attempt int
	err := s.db.QueryRowContext(ctx, `INSERT INTO submissions (user_id, exercise, seed, body, status, created_at, attempt)
		SELECT ?, ?, ?, ?, 'queued', ?, (SELECT COUNT(*) + 1 FROM submissions WHERE user_id = ? AND exercise = ?)
		WHERE (SELECT COUNT(*) FROM submissions WHERE user_id = ? AND status != 'done') < ?
		  AND (SELECT COUNT(*) FROM submissions WHERE status != 'done') < ?
		RETURNING id, attempt`,
		userID, exercise, seed, body, now, userID, exercise, userID, perUser, queueCap).Scan(&id, &attempt)
	if errors.Is(err, sql.ErrNoRows) {
		n, err := s.PendingCount(ctx, userID)
		if err != nil {
			return nil, err
		}
		if n >= perUser {
			return nil, ErrTooManyPending
		}
		return nil, ErrQueueFull
	}
	if err != nil {
		return nil, fmt.Errorf("store submission: %w", err)
	}
	return &Submission{ID: id, UserID: userID, Exercise: exercise, Attempt: attempt, Seed: seed, Body: body, Status: JobQueued, CreatedAt: fromMillis(now)}, nil
}

// ToPublish returns up to limit jobs that are not on the job stream yet,
// in fair order: each student's oldest waiting answer first, students whose
// last answer was published longest ago (or never) before the others, by
// the job stream's sequence numbers; then
// each student's second waiting answer, and so on. One student's ten
// answers thus never hold back another student's first.
func (s *Store) ToPublish(ctx context.Context, limit int) ([]*Submission, error) {
	return s.jobsToPublish(ctx, `SELECT `+submissionColumns+` FROM submissions
		JOIN (SELECT id AS rid, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY id) AS rn
			FROM submissions WHERE status != 'done' AND published = 0) ON rid = id
		LEFT JOIN (SELECT user_id AS luid, MAX(published_seq) AS lp FROM submissions
			WHERE user_id IN (SELECT user_id FROM submissions WHERE status != 'done' AND published = 0)
			GROUP BY user_id) ON luid = user_id
		ORDER BY rn, COALESCE(lp, 0), id LIMIT ?`, limit)
}

// StaleJobs returns up to limit jobs published, or last claimed, before
// staleBefore that have no outcome: their message was lost (a NATS store
// wiped, a node cut off after its ack), so they are published again.
func (s *Store) StaleJobs(ctx context.Context, staleBefore time.Time, limit int) ([]*Submission, error) {
	return s.jobsToPublish(ctx, `SELECT `+submissionColumns+` FROM submissions
		WHERE status != 'done' AND published = 1 AND COALESCE(started_at, published_at, 0) < ? ORDER BY id LIMIT ?`,
		staleBefore.UnixMilli(), limit)
}

func (s *Store) jobsToPublish(ctx context.Context, query string, args ...any) ([]*Submission, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs to publish: %w", err)
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

// InFlight counts jobs on the job stream that have no outcome yet.
func (s *Store) InFlight(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM submissions WHERE status != 'done' AND published = 1`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count jobs in flight: %w", err)
	}
	return n, nil
}

// NextGeneration bumps a job's generation before it is published.
func (s *Store) NextGeneration(ctx context.Context, id int64) (int64, error) {
	var g int64
	err := s.db.QueryRowContext(ctx, `UPDATE submissions SET generation = generation + 1 WHERE id = ? AND status != 'done'
		RETURNING generation`, id).Scan(&g)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("next generation: %w", err)
	}
	return g, nil
}

// MarkPublished records that generation g of a job is on the job stream
// at sequence seq.
func (s *Store) MarkPublished(ctx context.Context, id, g int64, seq uint64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE submissions SET published = 1, published_at = ?, published_seq = ?
		WHERE id = ? AND generation = ?`, s.now(), int64(seq), id, g)
	if err != nil {
		return fmt.Errorf("mark published: %w", err)
	}
	return nil
}

// ClaimLeased gives node a new lease on generation g of a job and marks it
// running. It returns ErrNotFound when the job is done or was published
// again since, and ErrPoison when the job was claimed maxRuns times already
// without an outcome.
func (s *Store) ClaimLeased(ctx context.Context, id, g int64, node string, maxRuns int) (int64, error) {
	var lease int64
	// published = 1 as well: a job a node claims is on the stream, even if
	// the outbox has not yet recorded it (its write may be held up), and
	// must not be published a second time.
	err := s.db.QueryRowContext(ctx, `UPDATE submissions SET status = 'running', started_at = ?, runs = runs + 1,
			lease = lease + 1, node = ?, published = 1
		WHERE id = ? AND generation = ? AND status != 'done' AND runs < ? RETURNING lease`,
		s.now(), node, id, g, maxRuns).Scan(&lease)
	if err == nil {
		return lease, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("claim a job: %w", err)
	}
	var status string
	var gen int64
	var runs int
	err = s.db.QueryRowContext(ctx, `SELECT status, generation, runs FROM submissions WHERE id = ?`, id).Scan(&status, &gen, &runs)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, ErrNotFound
	case err != nil:
		return 0, fmt.Errorf("claim a job: %w", err)
	case status != string(JobDone) && gen == g && runs >= maxRuns:
		return 0, ErrPoison
	}
	return 0, ErrNotFound
}

// ReleaseLeased puts a leased job back in the queue without counting the
// run, as when the node's engine does not answer.
func (s *Store) ReleaseLeased(ctx context.Context, id, lease int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE submissions SET status = 'queued', started_at = NULL, runs = MAX(runs - 1, 0)
		WHERE id = ? AND lease = ? AND status = 'running'`, id, lease)
	if err != nil {
		return fmt.Errorf("release a job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrStaleLease
	}
	return nil
}

// FinishLeased records the outcome of a job if lease is still its newest.
func (s *Store) FinishLeased(ctx context.Context, id, lease int64, o Outcome) error {
	res, err := s.db.ExecContext(ctx, `UPDATE submissions SET status = 'done', verdict = ?, score = ?, counted = ?, reason = ?,
		result = ?, finished_at = ?, node = ? WHERE id = ? AND lease = ? AND status != 'done'`,
		o.Verdict, o.Score, o.Counted, o.Reason, string(o.Result), s.now(), o.Node, id, lease)
	if err != nil {
		return fmt.Errorf("record grading result: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrStaleLease
	}
	return nil
}

// FinishUngraded records that a job could not be graded (not counted),
// whatever its lease.
func (s *Store) FinishUngraded(ctx context.Context, id int64, reason string, result []byte) error {
	_, err := s.db.ExecContext(ctx, `UPDATE submissions SET status = 'done', verdict = 'error', score = 0, counted = 0,
		reason = ?, result = ?, finished_at = ? WHERE id = ? AND status != 'done'`, reason, string(result), s.now(), id)
	if err != nil {
		return fmt.Errorf("record an ungraded job: %w", err)
	}
	return nil
}

// RepublishNode queues again, for publication under a new generation, the
// jobs a node held when it stopped for certain (the web server's own node
// after a crash): their old messages are dropped at their next claim.
func (s *Store) RepublishNode(ctx context.Context, node string) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE submissions SET status = 'queued', started_at = NULL, published = 0,
		runs = MAX(runs - 1, 0) WHERE status = 'running' AND node = ?`, node)
	if err != nil {
		return 0, fmt.Errorf("republish a node's jobs: %w", err)
	}
	return res.RowsAffected()
}

// RunningOn returns the node that holds a running job's lease, or "" when
// the job is not running.
func (s *Store) RunningOn(ctx context.Context, id int64) (string, error) {
	var node string
	err := s.db.QueryRowContext(ctx, `SELECT CASE WHEN status = 'running' THEN node ELSE '' END FROM submissions WHERE id = ?`, id).Scan(&node)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return node, err
}

// NodeOf returns the node that holds or held a job's lease.
func (s *Store) NodeOf(ctx context.Context, id int64) (string, error) {
	var node string
	err := s.db.QueryRowContext(ctx, `SELECT node FROM submissions WHERE id = ?`, id).Scan(&node)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return node, err
}

// RecentGradingTime is the mean time the last n gradings took, or zero.
func (s *Store) RecentGradingTime(ctx context.Context, n int) (time.Duration, error) {
	var ms sql.NullFloat64
	err := s.db.QueryRowContext(ctx, `SELECT AVG(finished_at - started_at) FROM (SELECT finished_at, started_at FROM submissions
		WHERE status = 'done' AND started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?)`, n).Scan(&ms)
	if err != nil {
		return 0, fmt.Errorf("recent grading time: %w", err)
	}
	return time.Duration(ms.Float64 * float64(time.Millisecond)), nil
}

// PublishedGeneration is the generation of a job on the job stream, or 0
// while it is not published.
func (s *Store) PublishedGeneration(ctx context.Context, id int64) (int64, error) {
	var g int64
	err := s.db.QueryRowContext(ctx, `SELECT CASE WHEN published = 1 THEN generation ELSE 0 END FROM submissions WHERE id = ?`, id).Scan(&g)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return g, err
}
