package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"coldstart/grader"
	"coldstart/grader/jobs"
	"coldstart/server/grading"
)

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
	bq := newQueueRig(b)
	bq.start(1, 2, func(string) grading.Grader { return g })
	user := bq.students(1)[0]
	var took []time.Duration
	for b.Loop() {
		began := time.Now()
		id := bq.submit(user)
		took = append(took, (<-g.started).Sub(began))
		bq.waitPass(id)
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
			bq := newQueueRig(b)
			bq.start(nodes, 2, func(string) grading.Grader { return static })
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
					bq.waitPass(id)
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
