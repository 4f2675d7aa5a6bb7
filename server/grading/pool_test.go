package grading_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// engineGrader stands for an engine that can be switched off: while off,
// Ready fails and every grading ends as the engine ends one it cannot
// reach. It records when gradings start.
type engineGrader struct {
	up      atomic.Bool
	mu      sync.Mutex
	started []time.Time
	graded  atomic.Int64
}

func (g *engineGrader) Grade(ctx context.Context, req grader.Request) *grader.Result {
	g.mu.Lock()
	g.started = append(g.started, time.Now())
	g.mu.Unlock()
	if !g.up.Load() {
		err := errors.Join(grader.ErrEngineUnavailable, errors.New("dial unix /nowhere: connect: no such file or directory"))
		return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusError, Checks: []grader.Check{}, Reason: err.Error(), Cause: err}
	}
	g.graded.Add(1)
	return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusPass, Score: 1, Gradable: true, Checks: []grader.Check{}}
}

func (g *engineGrader) Variant(grader.Spec, int64) (*grader.Variant, error) { return nil, nil }
func (g *engineGrader) Form(grader.Spec) (*grader.Form, error)              { return nil, nil }
func (g *engineGrader) Ready(context.Context) error {
	if g.up.Load() {
		return nil
	}
	return grader.ErrEngineUnavailable
}

func TestPoolWaitsForTheEngineAndSweepsFirst(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "coldstart.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	course, err := content.Load(os.DirFS("../../content/testdata/minimal"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, "s@example.com", []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for range 3 {
		s, err := st.CreateSubmission(ctx, u.ID, "tiny-grid", 7, []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	g := &engineGrader{}
	var sweptAt atomic.Pointer[time.Time]
	sweep := func(context.Context) (int, error) {
		now := time.Now()
		sweptAt.Store(&now)
		return 2, nil
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := grading.New(st, g, func() *content.Course { return course }, grading.NewHub(),
		grading.Options{Workers: 2, Logger: logger, Poll: 20 * time.Millisecond, Sweep: sweep})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { pool.Run(runCtx); close(done) }()

	// With the engine off, an answer is tried, queued again, and not
	// judged; the sweep waits too.
	time.Sleep(300 * time.Millisecond)
	for _, id := range ids {
		s, err := st.Submission(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status == store.JobDone {
			t.Fatalf("answer %d was judged with the engine off: %s %s", id, s.Verdict, s.Reason)
		}
	}
	if sweptAt.Load() != nil {
		t.Fatal("the sweep ran while the engine was off")
	}
	g.mu.Lock()
	triedOff := len(g.started)
	g.mu.Unlock()
	if triedOff == 0 {
		t.Fatal("no grading was tried with the engine off")
	}
	// Workers do not spin on the queue while the engine is off.
	time.Sleep(200 * time.Millisecond)
	g.mu.Lock()
	if n := len(g.started); n != triedOff {
		t.Errorf("%d more gradings were tried with the engine known to be off", n-triedOff)
	}
	g.mu.Unlock()

	g.up.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for g.graded.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	for _, id := range ids {
		s, err := st.Submission(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != store.JobDone || s.Verdict != "pass" || !s.Counted {
			t.Errorf("answer %d after the engine came back: %s %s counted=%v", id, s.Status, s.Verdict, s.Counted)
		}
	}
	swept := sweptAt.Load()
	if swept == nil {
		t.Fatal("the sweep never ran")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, at := range g.started[triedOff:] {
		if at.Before(*swept) {
			t.Errorf("a grading started at %s, before the sweep at %s", at.Format(time.StampMicro), swept.Format(time.StampMicro))
		}
	}
}
