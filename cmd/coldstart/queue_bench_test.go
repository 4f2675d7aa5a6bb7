package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/grader"
	"coldstart/grader/jobs"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// benchQueue is the grading pipeline of `coldstart serve` as startQueue
// builds it (embedded NATS on files beside the database, dispatcher, local
// node), plus extra nodes on their own connections.
type benchQueue struct {
	b      *testing.B
	st     *store.Store
	q      *gradingQueue
	m      *Main
	ex     *content.Exercise
	cancel context.CancelFunc
	done   chan struct{}
}

func newBenchQueue(b *testing.B, nodes, workers int, g grading.Grader) *benchQueue {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db := filepath.Join(b.TempDir(), "coldstart.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	course, err := content.Load(builtin.FS(), courseKinds())
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	m := &Main{DB: db, Workers: workers, Grace: time.Second, NATS: NATSConfig{AckWait: jobs.DefaultAckWait}}
	q, err := m.startQueue(queueParts{store: st, course: func() *content.Course { return course }, hub: grading.NewHub(),
		grader: g, logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	bq := &benchQueue{b: b, st: st, q: q, m: m, ex: course.Exercise("serverless-criteria"), cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	for i := 1; i < nodes; i++ {
		nc, err := m.NATS.connect(q.ns, "node")
		if err != nil {
			b.Fatal(err)
		}
		n, err := jobs.NewNode(jobs.NodeOptions{Name: "node-" + strconv.Itoa(i), Workers: workers, Grader: g, Conn: nc, Logger: logger})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = n.Run(ctx); nc.Close() }()
	}
	go func() { q.run(ctx); wg.Wait(); close(bq.done) }()
	for i := 1; i <= nodes; i++ {
		name := LocalNode
		if i > 1 {
			name = "node-" + strconv.Itoa(i-1)
		}
		if !q.dispatcher.WaitForNode(ctx, name, 10*time.Second) {
			b.Fatalf("node %s was not heard from", name)
		}
	}
	b.Cleanup(bq.close)
	return bq
}

func (bq *benchQueue) close() {
	bq.cancel()
	<-bq.done
	bq.q.close()
	bq.st.Close()
}

func (bq *benchQueue) submit(user int64) int64 {
	sub, err := bq.st.CreateSubmission(context.Background(), user, bq.ex.ID, bq.ex.SolutionSeed(), bq.ex.Solution)
	if err != nil {
		bq.b.Fatal(err)
	}
	bq.q.dispatcher.Notify()
	return sub.ID
}

func (bq *benchQueue) students(n int) []int64 {
	var out []int64
	for i := 0; i < n; i++ {
		u, err := bq.st.CreateUser(context.Background(), fmt.Sprintf("s%d@example.com", i), []byte("x"))
		if err != nil {
			bq.b.Fatal(err)
		}
		out = append(out, u.ID)
	}
	return out
}

func (bq *benchQueue) waitDone(id int64) {
	for {
		s, err := bq.st.Submission(context.Background(), id)
		if err != nil {
			bq.b.Fatal(err)
		}
		if s.Status == store.JobDone {
			if s.Verdict != "pass" {
				bq.b.Fatalf("submission %d: %s (%s)", id, s.Verdict, s.Reason)
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// startClock is a static grader that tells when each grading starts.
type startClock struct {
	grading.Grader
	started chan time.Time
}

func (g startClock) Grade(ctx context.Context, req grader.Request) *grader.Result {
	g.started <- time.Now()
	return g.Grader.Grade(ctx, req)
}

// BenchmarkQueueToStart is the time from an answer stored to its grading
// started on a node, through the outbox, the embedded NATS server, the
// node's fetch and its claim: p50 and p99 of one answer at a time.
func BenchmarkQueueToStart(b *testing.B) {
	g := startClock{Grader: gradingEngine(nil, slog.New(slog.NewJSONHandler(io.Discard, nil))), started: make(chan time.Time, 1)}
	bq := newBenchQueue(b, 1, 2, g)
	user := bq.students(1)[0]
	var took []time.Duration
	for b.Loop() {
		began := time.Now()
		id := bq.submit(user)
		took = append(took, (<-g.started).Sub(began))
		bq.waitDone(id)
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	at := func(q float64) float64 {
		return float64(took[min(len(took)-1, int(q*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkStaticGradings grades table answers, which start no container,
// from 50 students on one, two and three nodes of two workers each, all
// in this process: gradings per second from the first answer stored to
// the last verdict recorded.
func BenchmarkStaticGradings(b *testing.B) {
	static := gradingEngine(nil, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	for nodes := 1; nodes <= 3; nodes++ {
		b.Run("nodes="+strconv.Itoa(nodes), func(b *testing.B) {
			bq := newBenchQueue(b, nodes, 2, static)
			users := bq.students(50)
			const perRound = 200
			var graded int
			var spent time.Duration
			for b.Loop() {
				began := time.Now()
				var ids []int64
				for i := 0; i < perRound; i++ {
					ids = append(ids, bq.submit(users[i%len(users)]))
				}
				for _, id := range ids {
					bq.waitDone(id)
				}
				spent += time.Since(began)
				graded += perRound
			}
			b.ReportMetric(float64(graded)/spent.Seconds(), "gradings/s")
		})
	}
}

// BenchmarkEmbeddedNATSAtRest is the memory the embedded NATS server and
// its streams hold once started and idle: Go heap and stacks in use after
// a collection, before and after.
func BenchmarkEmbeddedNATSAtRest(b *testing.B) {
	inUse := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse + ms.StackInuse
	}
	var total float64
	for b.Loop() {
		before := inUse()
		c := NATSConfig{AckWait: jobs.DefaultAckWait}
		ns, err := c.startNATS(filepath.Join(b.TempDir(), "coldstart.db"))
		if err != nil {
			b.Fatal(err)
		}
		nc, err := c.connect(ns, "web")
		if err != nil {
			b.Fatal(err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			b.Fatal(err)
		}
		if err := jobs.EnsureStreams(context.Background(), js, jobs.StreamOptions{}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		total += float64(inUse()-before) / (1 << 20)
		nc.Close()
		ns.Shutdown()
		ns.WaitForShutdown()
	}
	b.ReportMetric(total/float64(b.N), "MiB-at-rest")
}
