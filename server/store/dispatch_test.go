package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"coldstart/server/store"
)

func TestSubmitLimitedHoldsBothLimitsUnderConcurrentAnswers(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	one := mustUser(t, s, "one@example.com")
	// One student sends 10 answers at once: exactly 3 are taken.
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := map[string]int{}
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SubmitLimited(ctx, one.ID, "ex", 1, []byte("a"), 3, 1000)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				errs["ok"]++
			case errors.Is(err, store.ErrTooManyPending):
				errs["pending"]++
			default:
				errs[err.Error()]++
			}
		}()
	}
	wg.Wait()
	if errs["ok"] != 3 || errs["pending"] != 7 {
		t.Fatalf("10 answers at once from one student: %v, want 3 taken and 7 refused as too many waiting", errs)
	}
	// The server-wide cap: 5 with 3 waiting already; 6 students at once.
	taken, full := 0, 0
	for i := 0; i < 6; i++ {
		wg.Add(1)
		u := mustUser(t, s, fmt.Sprintf("s%d@example.com", i))
		go func() {
			defer wg.Done()
			_, err := s.SubmitLimited(ctx, u.ID, "ex", 1, []byte("a"), 3, 5)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				taken++
			case errors.Is(err, store.ErrQueueFull):
				full++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if taken != 2 || full != 4 {
		t.Fatalf("cap 5 with 3 waiting, 6 answers at once: %d taken, %d refused as full; want 2 and 4", taken, full)
	}
}

func TestLeasesFenceOffAnOlderDelivery(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	u := mustUser(t, s, "a@example.com")
	sub, err := s.CreateSubmission(ctx, u.ID, "ex", 1, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.NextGeneration(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPublished(ctx, sub.ID, g, 1); err != nil {
		t.Fatal(err)
	}
	first, err := s.ClaimLeased(ctx, sub.ID, g, "frozen", 3)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.ClaimLeased(ctx, sub.ID, g, "other", 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimLeased(ctx, sub.ID, g-1, "old copy", 3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("claim of an older generation: %v, want ErrNotFound", err)
	}
	if err := s.FinishLeased(ctx, sub.ID, first, store.Outcome{Verdict: "fail", Counted: true}); !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("outcome of the first lease after a second: %v, want ErrStaleLease", err)
	}
	if err := s.FinishLeased(ctx, sub.ID, second, store.Outcome{Node: "other", Verdict: "pass", Score: 1, Counted: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishLeased(ctx, sub.ID, second, store.Outcome{Verdict: "fail", Counted: true}); !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("a second outcome of the same lease: %v, want ErrStaleLease", err)
	}
	done, err := s.Submission(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Verdict != "pass" || done.Runs != 2 {
		t.Fatalf("verdict %q runs %d, want pass after 2 runs", done.Verdict, done.Runs)
	}
	if node, _ := s.NodeOf(ctx, sub.ID); node != "other" {
		t.Errorf("node %q, want other", node)
	}
}

// A node may claim a job before the outbox has recorded its publication
// (that write can wait on a lock): the claimed job is not published again.
func TestAJobClaimedBeforeItsPublicationIsRecordedIsNotPublishedAgain(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	u := mustUser(t, s, "a@example.com")
	sub, err := s.CreateSubmission(ctx, u.ID, "ex", 1, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.NextGeneration(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimLeased(ctx, sub.ID, g, "quick", 3); err != nil {
		t.Fatal(err)
	}
	again, err := s.ToPublish(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("ToPublish returned %d jobs, want none: the only one is claimed", len(again))
	}
	if n, err := s.InFlight(ctx); err != nil || n != 1 {
		t.Fatalf("in flight: %d %v, want 1", n, err)
	}
}
