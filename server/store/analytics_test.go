package store_test

import (
	"context"
	"math"
	"testing"
	"time"

	"coldstart/server/store"
)

// graded stores a counted attempt made at the store's current time.
func graded(t *testing.T, s *store.Store, user int64, ex, verdict, checks string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateSubmission(ctx, user, ex, 1, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	job, err := s.ClaimJob(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishJob(ctx, job.ID, store.Outcome{Verdict: verdict, Counted: verdict != "error", Result: []byte(`{"checks":[` + checks + `]}`)}); err != nil {
		t.Fatal(err)
	}
}

func TestAnalytics(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	a, b, c := mustUser(t, s, "a@example.com"), mustUser(t, s, "b@example.com"), mustUser(t, s, "c@example.com")
	teacher := mustUser(t, s, "t@example.com")
	if err := s.SetRole(ctx, teacher.ID, store.RoleInstructor); err != nil {
		t.Fatal(err)
	}
	const (
		xFail = `{"id":"x","title":"Ports match","status":"fail"}`
		yFail = `{"id":"y","title":"Memory fits","status":"fail"}`
		yPass = `{"id":"y","title":"Memory fits","status":"pass"}`
	)
	step := func(d time.Duration) { now = now.Add(d) }
	graded(t, s, a.ID, "ex1", "fail", xFail+","+yPass)
	step(10 * time.Minute)
	graded(t, s, a.ID, "ex1", "pass", "")
	graded(t, s, b.ID, "ex1", "fail", xFail)
	step(20 * time.Minute)
	graded(t, s, b.ID, "ex1", "fail", xFail+","+yFail)
	graded(t, s, b.ID, "ex1", "error", xFail) // not counted
	step(10 * time.Minute)
	graded(t, s, b.ID, "ex1", "pass", "")
	graded(t, s, c.ID, "ex1", "fail", xFail)
	graded(t, s, teacher.ID, "ex1", "fail", yFail) // not a student
	// A result that is not JSON does not break the query.
	if _, err := s.CreateSubmission(ctx, c.ID, "ex1", 1, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	job, _ := s.ClaimJob(ctx)
	_ = s.FinishJob(ctx, job.ID, store.Outcome{Verdict: "fail", Counted: true, Result: []byte("not json")})

	for _, q := range []struct {
		user   int64
		quiz   string
		rights []bool
	}{{a.ID, "l/q1", []bool{true}}, {b.ID, "l/q1", []bool{false, true}}, {c.ID, "l/q1", []bool{false}}, {a.ID, "l/q2", []bool{true}}} {
		for _, r := range q.rights {
			if _, err := s.RecordQuiz(ctx, q.user, q.quiz, []int{0}, r); err != nil {
				t.Fatal(err)
			}
		}
	}

	stats, quizzes, err := s.Analytics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ex := stats["ex1"]
	if ex == nil || ex.Students != 3 || ex.Attempts != 7 || ex.Passed != 2 || math.Abs(ex.PassRate()-2.0/3) > 1e-9 {
		t.Fatalf("ex1 = %+v", ex)
	}
	if ex.MedianAttempts != 2.5 {
		t.Fatalf("median attempts %v, want 2.5 (a passed at 2, b at 3)", ex.MedianAttempts)
	}
	if want := 20 * time.Minute; ex.MedianTimeToPass != want {
		t.Fatalf("median time to pass %v, want %v (10 and 30 minutes)", ex.MedianTimeToPass, want)
	}
	if len(ex.FailingChecks) != 2 {
		t.Fatalf("failing checks %+v", ex.FailingChecks)
	}
	x, y := ex.FailingChecks[0], ex.FailingChecks[1]
	if x.ID != "x" || x.Title != "Ports match" || x.Students != 3 || x.Attempts != 4 || x.Share != 1 {
		t.Fatalf("most failed %+v", x)
	}
	if y.ID != "y" || y.Students != 1 || math.Abs(y.Share-1.0/3) > 1e-9 {
		t.Fatalf("second %+v", y)
	}
	if len(quizzes) != 2 || quizzes[0].Quiz != "l/q1" || quizzes[0].Answered != 3 || quizzes[0].Missed != 2 || quizzes[1].Missed != 0 {
		t.Fatalf("quiz misses %+v", quizzes)
	}
}
