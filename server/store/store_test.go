package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"coldstart/server/store"
)

func mustOpen(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "coldstart.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, path
}

func mustUser(tb testing.TB, s *store.Store, email string) *store.User {
	tb.Helper()
	u, err := s.CreateUser(context.Background(), email, []byte("hash"))
	if err != nil {
		tb.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func TestMigrationsApplyOnceAndSurviveReopen(t *testing.T) {
	ctx := context.Background()
	s, path := mustOpen(t)
	mustUser(t, s, "a@example.com")
	s.Close()
	s2, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	names, err := s2.Migrations(ctx)
	if err != nil || len(names) == 0 || names[0] != "migrations/0001_init.sql" {
		t.Fatalf("migrations = %v, %v", names, err)
	}
	if _, err := s2.UserByEmail(ctx, "A@EXAMPLE.COM"); err != nil {
		t.Fatalf("user lost on reopen: %v", err)
	}
}

func TestNoAccountIsAdminByBeingFirstAndEmailsAreUnique(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	first := mustUser(t, s, "first@example.com")
	second := mustUser(t, s, "second@example.com")
	if first.Role != store.RoleStudent || second.Role != store.RoleStudent {
		t.Fatalf("roles = %s, %s; want student, student", first.Role, second.Role)
	}
	if _, err := s.CreateUser(ctx, "FIRST@example.com", []byte("x")); !errors.Is(err, store.ErrEmailTaken) {
		t.Fatalf("duplicate email: err = %v, want ErrEmailTaken", err)
	}
	if err := s.SetRole(ctx, second.ID, store.RoleInstructor); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole(ctx, second.ID, "root"); err == nil {
		t.Fatal("unknown role accepted")
	}
	u, _ := s.User(ctx, second.ID)
	if u.Role != store.RoleInstructor {
		t.Fatalf("role = %s", u.Role)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	u := mustUser(t, s, "a@example.com")
	if err := s.CreateSession(ctx, u.ID, []byte("tok"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		hash    string
		advance time.Duration
		want    error
	}{
		{"Valid", "tok", 0, nil},
		{"Unknown", "other", 0, store.ErrNotFound},
		{"UsedWithinIdleLimit", "tok", 9 * time.Minute, nil},
		{"UsedAgainWithinIdleLimit", "tok", 9 * time.Minute, nil},
		{"Expired", "tok", 2 * time.Hour, store.ErrExpired},
		{"GoneAfterExpiry", "tok", 0, store.ErrNotFound},
		{"IdleSessionExpired", "idle", 11 * time.Minute, store.ErrExpired},
		{"GoneAfterIdle", "idle", 0, store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "IdleSessionExpired" {
				if err := s.CreateSession(ctx, u.ID, []byte("idle"), now.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			now = now.Add(tt.advance)
			got, _, err := s.SessionUser(ctx, []byte(tt.hash), 10*time.Minute)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && got.ID != u.ID {
				t.Fatalf("user = %d, want %d", got.ID, u.ID)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	u := mustUser(t, s, "a@example.com")
	other := mustUser(t, s, "b@example.com")
	if err := s.SetLessonComplete(ctx, u.ID, "cloud-run", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLessonComplete(ctx, u.ID, "cloud-run", true); err != nil {
		t.Fatal("second completion must be harmless:", err)
	}
	s.SetLessonComplete(ctx, u.ID, "what-is-serverless", true)
	s.SetLessonComplete(ctx, u.ID, "what-is-serverless", false)
	s.RecordQuiz(ctx, u.ID, "cloud-run/q1", []int{0}, false)
	s.RecordQuiz(ctx, u.ID, "cloud-run/q1", []int{1, 2}, true)

	finish := func(uid int64, verdict string, score float64, counted bool) {
		sub, err := s.CreateSubmission(ctx, uid, "subnet-sizing", 7, []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		claimed, err := s.ClaimJob(ctx)
		if err != nil || claimed.ID != sub.ID {
			t.Fatalf("claim = %v, %v", claimed, err)
		}
		if err := s.FinishJob(ctx, sub.ID, store.Outcome{Verdict: verdict, Score: score, Counted: counted}); err != nil {
			t.Fatal(err)
		}
	}
	finish(u.ID, "fail", 0.5, true)
	finish(u.ID, "error", 0.9, false) // not judged: neither an attempt nor a score
	finish(u.ID, "pass", 1, true)
	finish(other.ID, "fail", 0.25, true)

	p, err := s.Progress(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Lessons["cloud-run"]; !ok || len(p.Lessons) != 1 {
		t.Fatalf("lessons = %v", p.Lessons)
	}
	q := p.Quizzes["cloud-run/q1"]
	if !q.Correct || q.Tries != 2 || len(q.Choices) != 2 {
		t.Fatalf("quiz = %+v", q)
	}
	ex := p.Exercises["subnet-sizing"]
	if ex.Attempts != 2 || ex.Best != 1 || !ex.Passed {
		t.Fatalf("exercise stats = %+v, want 2 attempts, best 1, passed", ex)
	}
	cohort, err := s.CohortProgress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := cohort[other.ID].Exercises["subnet-sizing"]; got.Attempts != 1 || got.Best != 0.25 || got.Passed {
		t.Fatalf("other's stats = %+v", got)
	}
}

func TestJobQueue(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	u := mustUser(t, s, "a@example.com")
	if _, err := s.ClaimJob(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty queue: err = %v", err)
	}
	a, _ := s.CreateSubmission(ctx, u.ID, "x", 1, []byte("a"))
	b, _ := s.CreateSubmission(ctx, u.ID, "x", 1, []byte("b"))
	if pos, _ := s.QueuePosition(ctx, b.ID); pos != 1 {
		t.Fatalf("position of second = %d", pos)
	}
	got, _ := s.ClaimJob(ctx)
	if got.ID != a.ID || got.Status != store.JobRunning || got.Runs != 1 {
		t.Fatalf("claimed %+v, want the oldest, running", got)
	}
	// A crash while a is running: at start-up it is queued again.
	if n, err := s.RequeueInterrupted(ctx); err != nil || n != 1 {
		t.Fatalf("requeued %d, %v", n, err)
	}
	got, _ = s.ClaimJob(ctx)
	if got.ID != a.ID || got.Runs != 2 {
		t.Fatalf("reclaimed %+v", got)
	}
	if err := s.RequeueJob(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if q, r, _ := s.QueueDepth(ctx); q != 2 || r != 0 {
		t.Fatalf("depth = %d queued, %d running", q, r)
	}
	if err := s.FinishJob(ctx, b.ID, store.Outcome{Verdict: "pass"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("finishing a job that is not running: err = %v", err)
	}
}

// Two processes writing the same file wait for each other's lock within the
// busy timeout instead of failing with "database is locked".
func TestConcurrentWritersWaitForTheLock(t *testing.T) {
	ctx := context.Background()
	s1, path := mustOpen(t)
	s2, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	u := mustUser(t, s1, "a@example.com")
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := s1
			if i%2 == 1 {
				s = s2
			}
			for j := 0; j < 25; j++ {
				if _, err := s.CreateSubmission(ctx, u.ID, "x", 1, []byte("{}")); err != nil {
					errs <- err
				}
				if _, err := s.RecordQuiz(ctx, u.ID, "q", []int{j}, true); err != nil {
					errs <- err
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent write failed: %v", err)
	}
	subs, _ := s1.Submissions(ctx, u.ID, "x", 1000)
	if len(subs) != 200 {
		t.Fatalf("stored %d submissions, want 200", len(subs))
	}
}
