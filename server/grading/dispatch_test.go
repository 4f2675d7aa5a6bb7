package grading_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/grader/jobs"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// queueHarness is a database, an in-process NATS server with JetStream and
// a dispatcher, as `coldstart serve` wires them.
type queueHarness struct {
	t      *testing.T
	path   string
	st     *store.Store
	ns     *natsserver.Server
	d      *grading.Dispatcher
	course *content.Course
	users  []int64
	// natsOpts start the server again; url, when set, is its address.
	natsOpts *natsserver.Options
	url      string
}

func (h *queueHarness) startNATS() {
	h.t.Helper()
	ns, err := natsserver.NewServer(h.natsOpts)
	if err != nil {
		h.t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		h.t.Fatal("the NATS server did not start")
	}
	h.ns = ns
}

func (h *queueHarness) stopNATS() {
	h.ns.Shutdown()
	h.ns.WaitForShutdown()
	h.ns = nil
}

func newQueueHarness(t *testing.T, ackWait time.Duration) *queueHarness {
	t.Helper()
	return newQueueHarnessOn(t, ackWait, false)
}

// newQueueHarnessOn, with listen, runs the NATS server on a loopback port
// with its streams on files, so that it can be stopped and started again.
func newQueueHarnessOn(t *testing.T, ackWait time.Duration, listen bool) *queueHarness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	path := filepath.Join(t.TempDir(), "coldstart.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	course, err := content.Load(os.DirFS("../../content/testdata/minimal"))
	if err != nil {
		t.Fatal(err)
	}
	h := &queueHarness{t: t, path: path, st: st, course: course,
		natsOpts: &natsserver.Options{DontListen: !listen, Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, JetStream: true,
			StoreDir: t.TempDir(), NoLog: true, NoSigs: true}}
	h.startNATS()
	if listen {
		h.url = h.ns.ClientURL()
		_, port, _ := net.SplitHostPort(h.ns.Addr().String())
		h.natsOpts.Port, _ = strconv.Atoi(port)
	}
	d, err := grading.NewDispatcher(st, func() *content.Course { return course }, grading.NewHub(), grading.DispatchOptions{
		Conn: h.conn("web"), Logger: quietLogger(), Poll: 20 * time.Millisecond,
		Streams: jobs.StreamOptions{AckWait: ackWait, Memory: !listen}})
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if h.ns != nil {
			h.ns.Shutdown()
		}
		st.Close()
	})
	return h
}

func quietLogger() *slog.Logger {
	if os.Getenv("QUEUE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

func (h *queueHarness) conn(name string) *nats.Conn {
	h.t.Helper()
	var c *nats.Conn
	var err error
	if h.url != "" {
		c, err = nats.Connect(h.url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
			nats.RetryOnFailedConnect(true))
	} else {
		c, err = nats.Connect("", nats.InProcessServer(h.ns), nats.Name(name))
	}
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(c.Close)
	return c
}

// node starts a grader node on its own connection; the returned function
// stops it and waits.
func (h *queueHarness) node(name string, workers int, g jobs.Grader) (*nats.Conn, func()) {
	h.t.Helper()
	c := h.conn(name)
	n, err := jobs.NewNode(jobs.NodeOptions{Name: name, Workers: workers, Grader: g, Conn: c, Logger: quietLogger(),
		Grace: time.Second, Heartbeat: 100 * time.Millisecond})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	h.t.Cleanup(stop)
	return c, stop
}

func (h *queueHarness) student(i int) int64 {
	h.t.Helper()
	u, err := h.st.CreateUser(context.Background(), fmt.Sprintf("s%d@example.com", i), []byte("x"))
	if err != nil {
		h.t.Fatal(err)
	}
	return u.ID
}

func (h *queueHarness) submit(user int64) *store.Submission {
	h.t.Helper()
	sub, err := h.st.CreateSubmission(context.Background(), user, h.course.Exercises[0].ID, 1, []byte("answer"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.d.Notify()
	return sub
}

// waitDone waits until every submission is graded.
func (h *queueHarness) waitDone(ids []int64, limit time.Duration) []*store.Submission {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var out []*store.Submission
		for _, id := range ids {
			sub, err := h.st.Submission(context.Background(), id)
			if err != nil {
				h.t.Fatal(err)
			}
			if sub.Status == store.JobDone {
				out = append(out, sub)
			}
		}
		if len(out) == len(ids) {
			return out
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d of %d answers graded after %s", len(out), len(ids), limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// orderGrader passes every answer after a short pause and records the
// order in which gradings start, by submission.
type orderGrader struct {
	mu      sync.Mutex
	started []int64
	pause   time.Duration
	graded  sync.Map // submission id → times graded
}

func (g *orderGrader) Grade(ctx context.Context, req grader.Request) *grader.Result {
	var id int64
	fmt.Sscanf(req.ID, "sub-%d", &id)
	g.mu.Lock()
	g.started = append(g.started, id)
	g.mu.Unlock()
	n, _ := g.graded.LoadOrStore(id, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	time.Sleep(g.pause)
	return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusPass, Score: 1, Gradable: true, Checks: []grader.Check{}}
}

func (g *orderGrader) Ready(context.Context) error { return nil }

func TestDispatchGradesEveryAnswerOnceRoundRobinOnThreeNodes(t *testing.T) {
	h := newQueueHarness(t, 5*time.Second)
	// 50 students send 4 answers each, one student after the other: in
	// the order of arrival the last student would wait behind 196.
	var ids []int64
	owner := map[int64]int64{}
	for i := 0; i < 50; i++ {
		u := h.student(i)
		for k := 0; k < 4; k++ {
			sub := h.submit(u)
			ids = append(ids, sub.ID)
			owner[sub.ID] = u
		}
	}
	// The work queue's order is the order of publication: watch it.
	var pubMu sync.Mutex
	var published []int64
	watch, err := h.conn("watch").Subscribe(jobs.JobsSubject, func(m *nats.Msg) {
		var j jobs.Job
		if json.Unmarshal(m.Data, &j) == nil {
			pubMu.Lock()
			published = append(published, j.Submission)
			pubMu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Unsubscribe()
	g := &orderGrader{pause: 3 * time.Millisecond}
	for _, name := range []string{"node-a", "node-b", "node-c"} {
		h.node(name, 2, g)
	}
	subs := h.waitDone(ids, 60*time.Second)

	nodes := map[string]int{}
	for _, sub := range subs {
		if sub.Verdict != "pass" || !sub.Counted {
			t.Errorf("submission %d: verdict %q counted %v, want pass counted", sub.ID, sub.Verdict, sub.Counted)
		}
		var res grader.Result
		if err := json.Unmarshal(sub.Result, &res); err != nil {
			t.Fatal(err)
		}
		nodes[res.Node]++
	}
	for _, id := range ids {
		n, ok := g.graded.Load(id)
		if !ok || n.(*atomic.Int64).Load() != 1 {
			t.Errorf("submission %d graded %v times, want once", id, n)
		}
	}
	if len(nodes) != 3 {
		t.Errorf("results name nodes %v, want all three", nodes)
	}
	// Fairness: between two jobs of one student in the queue (and before
	// its first), no other student has more than one. Gradings start in
	// that order give or take the six workers' concurrency.
	pubMu.Lock()
	queueOrder := append([]int64(nil), published...)
	pubMu.Unlock()
	g.mu.Lock()
	startOrder := append([]int64(nil), g.started...)
	g.mu.Unlock()
	if len(queueOrder) != len(ids) {
		t.Errorf("%d publications for %d answers, want one each", len(queueOrder), len(ids))
	}
	worstQueue, worstStart := mostBetween(queueOrder, owner), mostBetween(startOrder, owner)
	t.Logf("200 answers on nodes %v; most jobs of one student between two of another's: %d in the queue, %d in grading starts",
		nodes, worstQueue, worstStart)
	if worstQueue > 1 {
		t.Errorf("another student had %d jobs queued between two of one student's, want at most 1", worstQueue)
	}
}

// mostBetween is the most entries of one owner between two consecutive
// entries of another (or before another's first).
func mostBetween(order []int64, owner map[int64]int64) int {
	worst := 0
	last := map[int64]int{}
	for i, id := range order {
		s := owner[id]
		from, ok := last[s]
		if !ok {
			from = -1
		}
		between := map[int64]int{}
		for _, other := range order[from+1 : i] {
			if o := owner[other]; o != s {
				between[o]++
				worst = max(worst, between[o])
			}
		}
		last[s] = i
	}
	return worst
}

// dyingGrader stands for a node that dies in the middle of its first
// grading: it closes the node's connection and never returns a verdict.
type dyingGrader struct {
	conn    atomic.Pointer[nats.Conn]
	entered chan struct{}
}

func (g *dyingGrader) Grade(ctx context.Context, req grader.Request) *grader.Result {
	g.conn.Load().Close()
	close(g.entered)
	<-ctx.Done()
	return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusError, Checks: []grader.Check{}, Reason: "stopped"}
}

func (g *dyingGrader) Ready(context.Context) error { return nil }

func TestDispatchGivesALostNodesJobToAnother(t *testing.T) {
	h := newQueueHarness(t, time.Second)
	sub := h.submit(h.student(1))
	dying := &dyingGrader{entered: make(chan struct{})}
	c, _ := h.node("doomed", 1, dying)
	dying.conn.Store(c)
	<-dying.entered
	g := &orderGrader{}
	h.node("survivor", 1, g)
	done := h.waitDone([]int64{sub.ID}, 20*time.Second)[0]
	var res grader.Result
	if err := json.Unmarshal(done.Result, &res); err != nil {
		t.Fatal(err)
	}
	if done.Verdict != "pass" || !done.Counted || res.Node != "survivor" {
		t.Fatalf("verdict %q counted %v node %q, want pass counted by survivor", done.Verdict, done.Counted, res.Node)
	}
	if done.Runs != 2 {
		t.Errorf("runs = %d, want 2 (the lost one and the one that finished)", done.Runs)
	}
}

func TestDispatchRecordsAnAnswerThatFailsEveryTryAsNotGradable(t *testing.T) {
	h := newQueueHarness(t, time.Second)
	// A node that is heard from but takes nothing makes room on the
	// stream; then three deliveries end without an outcome.
	hb, _ := json.Marshal(jobs.Heartbeat{Node: "gone", Format: jobs.Format, Workers: 1, Engine: "ok"})
	gone := h.conn("gone")
	sub := h.submit(h.student(1))
	var g int64
	for deadline := time.Now().Add(10 * time.Second); ; {
		s, err := h.st.Submission(context.Background(), sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g = generationOf(t, h.st, sub.ID); g > 0 {
			break
		}
		if err := gone.Publish(jobs.HeartbeatSubject, hb); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("not published: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		if _, err := h.st.ClaimLeased(context.Background(), sub.ID, g, "gone", 3); err != nil {
			t.Fatal(err)
		}
	}
	h.node("next", 1, &orderGrader{})
	done := h.waitDone([]int64{sub.ID}, 20*time.Second)[0]
	if done.Verdict != "error" || done.Counted {
		t.Fatalf("verdict %q counted %v, want error not counted", done.Verdict, done.Counted)
	}
	if want := "3 tries to grade this answer ended without a verdict"; !strings.Contains(done.Reason, want) {
		t.Errorf("reason %q, want it to say %q", done.Reason, want)
	}
}

func generationOf(t *testing.T, st *store.Store, id int64) int64 {
	t.Helper()
	g, err := st.PublishedGeneration(context.Background(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return g
}

// lockingGrader passes every answer, and before it returns takes the
// database's write lock from another connection, as a backup or another
// process would, for hold.
type lockingGrader struct {
	path   string
	hold   time.Duration
	graded atomic.Int64
	locked chan struct{}
}

func (g *lockingGrader) Grade(ctx context.Context, req grader.Request) *grader.Result {
	if g.graded.Add(1) > 1 {
		return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusPass, Score: 1, Gradable: true, Checks: []grader.Check{}}
	}
	db, err := sql.Open("sqlite3", g.path)
	if err == nil {
		conn, err := db.Conn(ctx)
		if err == nil {
			if _, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err == nil {
				close(g.locked)
				time.AfterFunc(g.hold, func() {
					_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
					conn.Close()
					db.Close()
				})
			}
		}
	}
	return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusPass, Score: 1, Gradable: true, Checks: []grader.Check{}}
}

func (g *lockingGrader) Ready(context.Context) error { return nil }

func TestDispatchRetriesAVerdictTheDatabaseCannotTakeYet(t *testing.T) {
	h := newQueueHarness(t, 5*time.Second)
	sub := h.submit(h.student(1))
	// Longer than the store's busy timeout: the first write of the verdict
	// fails and is tried again.
	hold := store.BusyTimeout + 3*time.Second
	g := &lockingGrader{path: h.path, hold: hold, locked: make(chan struct{})}
	h.node("n", 1, g)
	select {
	case <-g.locked:
	case <-time.After(20 * time.Second):
		t.Fatal("the grader did not take the database's lock")
	}
	lockedAt := time.Now()
	done := h.waitDone([]int64{sub.ID}, hold+30*time.Second)[0]
	if waited := time.Since(lockedAt); waited < hold {
		t.Errorf("the verdict was recorded %s after the lock was taken, while it was held for %s", waited, hold)
	}
	if done.Verdict != "pass" || !done.Counted || done.Runs != 1 {
		t.Errorf("verdict %q counted %v runs %d, want pass counted in 1 run", done.Verdict, done.Counted, done.Runs)
	}
	if n := g.graded.Load(); n != 1 {
		t.Errorf("graded %d times, want once: a verdict that waits to be stored is not graded again", n)
	}
}

func TestDispatchTakesAnswersWhileNATSIsDownAndGradesThemWhenItIsBack(t *testing.T) {
	h := newQueueHarnessOn(t, 5*time.Second, true)
	g := &orderGrader{}
	h.node("n", 2, g)
	first := h.submit(h.student(1))
	h.waitDone([]int64{first.ID}, 20*time.Second)

	h.stopNATS()
	var ids []int64
	for i := 2; i <= 4; i++ {
		ids = append(ids, h.submit(h.student(i)).ID)
	}
	time.Sleep(time.Second)
	for _, id := range ids {
		sub, err := h.st.Submission(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Status != store.JobQueued {
			t.Fatalf("submission %d is %s while NATS is down, want queued", id, sub.Status)
		}
		if g := generationOf(t, h.st, id); g != 0 {
			t.Fatalf("submission %d counts as published (generation %d) while NATS is down", id, g)
		}
	}
	h.startNATS()
	for _, sub := range h.waitDone(ids, 30*time.Second) {
		if sub.Verdict != "pass" || !sub.Counted || sub.Runs != 1 {
			t.Errorf("submission %d: verdict %q counted %v runs %d, want pass counted in 1 run", sub.ID, sub.Verdict, sub.Counted, sub.Runs)
		}
	}
}
