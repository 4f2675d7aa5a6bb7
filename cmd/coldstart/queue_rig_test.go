package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/grader/jobs"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// queueRig is the grading pipeline of `coldstart serve` as startQueue
// builds it (embedded NATS on files beside the database, dispatcher, local
// node), plus extra nodes on their own connections, all in this process.
type queueRig struct {
	tb     testing.TB
	st     *store.Store
	q      *gradingQueue
	m      *Main
	course *content.Course
	ex     *content.Exercise // the answer submit sends
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// newQueueRig opens the database and the course; start starts the rest.
func newQueueRig(tb testing.TB) *queueRig {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db := filepath.Join(tb.TempDir(), "coldstart.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	course, err := content.Load(builtin.FS(), courseKinds())
	if err != nil {
		tb.Fatal(err)
	}
	bq := &queueRig{tb: tb, ctx: ctx, st: st, course: course, ex: course.Exercise("serverless-criteria"), cancel: cancel,
		done: make(chan struct{}),
		m:    &Main{DB: db, Grace: time.Second, NATS: NATSConfig{AckWait: jobs.DefaultAckWait}}}
	tb.Cleanup(bq.close)
	return bq
}

// start runs the pipeline with nodes nodes of workers workers each;
// graderOf gives each node's grader by the node's name. It returns once
// every node takes jobs.
func (bq *queueRig) start(nodes, workers int, graderOf func(node string) grading.Grader) {
	tb, ctx, m := bq.tb, bq.ctx, bq.m
	tb.Helper()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	m.Workers = workers
	q, err := m.startQueue(queueParts{store: bq.st, course: func() *content.Course { return bq.course }, hub: grading.NewHub(),
		grader: graderOf(LocalNode), logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	bq.q = q
	var wg sync.WaitGroup
	for i := 1; i < nodes; i++ {
		nc, err := m.NATS.connect(q.ns, "node")
		if err != nil {
			tb.Fatal(err)
		}
		name := "node-" + strconv.Itoa(i)
		n, err := jobs.NewNode(jobs.NodeOptions{Name: name, Workers: workers, Grader: graderOf(name), Conn: nc, Logger: logger})
		if err != nil {
			tb.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = n.Run(ctx); nc.Close() }()
	}
	go func() { q.run(ctx); wg.Wait(); close(bq.done) }()
	// Every node takes jobs before start returns.
	for deadline := time.Now().Add(10 * time.Second); q.dispatcher.Capacity() < nodes*workers; {
		if time.Now().After(deadline) {
			tb.Fatalf("the nodes offer %d workers, want %d", q.dispatcher.Capacity(), nodes*workers)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (bq *queueRig) close() {
	bq.cancel()
	if bq.q != nil {
		<-bq.done
		bq.q.close()
	}
	bq.st.Close()
}

func (bq *queueRig) submit(user int64) int64 {
	return bq.submitBody(user, bq.ex, bq.ex.Solution)
}

func (bq *queueRig) submitBody(user int64, ex *content.Exercise, body []byte) int64 {
	sub, err := bq.st.CreateSubmission(context.Background(), user, ex.ID, ex.SolutionSeed(), body)
	if err != nil {
		bq.tb.Fatal(err)
	}
	if bq.q != nil {
		bq.q.dispatcher.Notify()
	}
	return sub.ID
}

func (bq *queueRig) students(n int) []int64 {
	var out []int64
	for i := 0; i < n; i++ {
		u, err := bq.st.CreateUser(context.Background(), fmt.Sprintf("s%d@example.com", i), []byte("x"))
		if err != nil {
			bq.tb.Fatal(err)
		}
		out = append(out, u.ID)
	}
	return out
}

// waitPass waits until the answer is graded and fails unless it passed.
func (bq *queueRig) waitPass(id int64) {
	if s := bq.waitDone(id, time.Minute); s.Verdict != "pass" {
		bq.tb.Fatalf("submission %d: %s (%s)", id, s.Verdict, s.Reason)
	}
}

func (bq *queueRig) waitDone(id int64, limit time.Duration) *store.Submission {
	deadline := time.Now().Add(limit)
	for {
		s, err := bq.st.Submission(context.Background(), id)
		if err != nil {
			bq.tb.Fatal(err)
		}
		if s.Status == store.JobDone {
			return s
		}
		if time.Now().After(deadline) {
			bq.tb.Fatalf("submission %d not graded after %s: %s", id, limit, s.Status)
		}
		time.Sleep(time.Millisecond)
	}
}
