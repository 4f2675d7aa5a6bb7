package grading_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/grader/kinds"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// gather returns every sample as `name{label="v",...}` -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[key+"_count"] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

// After a few real gradings of a table exercise (static checks, no
// containers) the metrics say what was graded, what could not be, and
// what the queue holds.
func TestPoolMetrics(t *testing.T) {
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
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("../../content/testdata/minimal/exercises/tiny-grid", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Submitted ten minutes ago: the queue's oldest answer has waited that long.
	st.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
	answers := []struct {
		exercise string
		body     []byte
	}{
		{"tiny-grid", read("solution.json")},
		{"tiny-grid", read("solution.json")},
		{"tiny-grid", read("wrong/swapped.json")},
		{"tiny-grid", []byte("this is not JSON")},
		{"removed-exercise", []byte("{}")},
	}
	for _, a := range answers {
		if _, err := st.CreateSubmission(ctx, u.ID, a.exercise, 7, a.body); err != nil {
			t.Fatal(err)
		}
	}
	st.Now = time.Now

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	pool := grading.New(st, grader.NewEngine(nil, logger, kinds.All()...), func() *content.Course { return course },
		grading.NewHub(), grading.Options{Workers: 2, Logger: logger, Poll: 10 * time.Millisecond, Registerer: reg})

	before := gather(t, reg)
	if got := before[`coldstart_grading_queue_depth{state="queued"}`]; got != 5 {
		t.Fatalf("queued before grading = %v, want 5", got)
	}
	if got := before["coldstart_grading_queue_oldest_seconds"]; got < 600 {
		t.Fatalf("oldest waiting answer = %vs, want at least 600s", got)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { pool.Run(runCtx); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		q, err := st.Queue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if q.Queued == 0 && q.Running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gradings did not finish: %+v", q)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done

	got := gather(t, reg)
	want := map[string]float64{
		`coldstart_gradings_total{exercise="tiny-grid",verdict="pass"}`:         2,
		`coldstart_gradings_total{exercise="tiny-grid",verdict="fail"}`:         1,
		`coldstart_gradings_total{exercise="tiny-grid",verdict="error"}`:        1,
		`coldstart_gradings_total{exercise="removed-exercise",verdict="error"}`: 1,
		`coldstart_gradings_ungradable_total{reason="unreadable"}`:              1,
		`coldstart_gradings_ungradable_total{reason="exercise_removed"}`:        1,
		`coldstart_grading_seconds_count`:                                       5,
		`coldstart_grading_queue_depth{state="queued"}`:                         0,
		`coldstart_grading_queue_depth{state="running"}`:                        0,
		`coldstart_grading_queue_oldest_seconds`:                                0,
		`coldstart_grading_workers_busy`:                                        0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present: %v), want %v", k, g, ok, v)
		}
	}
	if t.Failed() {
		t.Logf("all samples: %v", got)
	}
}
