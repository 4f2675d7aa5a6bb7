package taskdef_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/taskdef"
	"coldstart/grader/sandbox/sandboxtest"
)

func loadSpec(tb testing.TB) grader.Spec {
	return gradertest.Load(tb, exerciseDir).Spec
}

// BenchmarkStatic measures the static phase of one submission (target ≤ 5 ms).
func BenchmarkStatic(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := taskdef.CheckStatic(ex.Spec, ex.Solution); err != nil {
			b.Fatal(err)
		}
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// BenchmarkGradeWarm grades the reference solution through the run phase
// with the lab image already built, one grading at a time, and reports the
// p50 and p95 wall-clock time (targets 5 s and 8 s). Run it with
// -benchtime=10x.
func BenchmarkGradeWarm(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	eng := newEngine(b)
	var times []time.Duration
	for b.Loop() {
		began := time.Now()
		res := eng.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: ex.Solution})
		times = append(times, time.Since(began))
		if res.Status != grader.StatusPass {
			b.Fatalf("status %s\n%s", res.Status, dump(b, res))
		}
	}
	b.ReportMetric(float64(percentile(times, 0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(percentile(times, 0.95).Milliseconds()), "p95-ms")
}

// BenchmarkLabImageCold compiles the lab programs and packs the image even
// though one exists (target ≤ 30 s).
func BenchmarkLabImageCold(b *testing.B) {
	sb := sandboxtest.New(b)
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		lb, err := sb.BuildLabImage(ctx, true)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(lb.Compile.Milliseconds()), "compile-ms")
		b.ReportMetric(float64(lb.Pack.Milliseconds()), "pack-ms")
	}
}

// BenchmarkTwentyAtOnce grades twenty submissions at the same time (the
// reference solution and every known-wrong answer, then solutions again).
// No grading may end in a wrong verdict (one the machine was too busy to
// judge ends in an error, which costs no attempt), and no container or
// network may be left behind.
func BenchmarkTwentyAtOnce(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	sb := sandboxtest.New(b)
	ctx := context.Background()
	if _, err := sb.LabImage(ctx); err != nil {
		b.Fatal(err)
	}
	eng := grader.NewEngine(sb, nil, taskdef.Kind{})
	type job struct {
		name, fails string
		body        []byte
	}
	var jobs []job
	for _, w := range ex.Wrong {
		jobs = append(jobs, job{w.File, w.Fails, w.Body})
	}
	for len(jobs) < 20 {
		jobs = append(jobs, job{fmt.Sprintf("solution-%d", len(jobs)), "", ex.Solution})
	}
	for b.Loop() {
		var wg sync.WaitGroup
		results := make([]*grader.Result, len(jobs))
		times := make([]time.Duration, len(jobs))
		began := time.Now()
		for i, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				results[i] = eng.Grade(ctx, grader.Request{Spec: ex.Spec, Body: j.body})
				times[i] = time.Since(t0)
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(time.Since(began).Milliseconds()), "all-ms")
		b.ReportMetric(float64(percentile(times, 0.95).Milliseconds()), "p95-ms")
		// Every grading must end in the right verdict or, when this
		// machine is too busy to judge, in an error that costs no attempt;
		// never in a wrong verdict.
		judged, unjudged := 0, 0
		for i, j := range jobs {
			res := results[i]
			if res.Status == grader.StatusError {
				unjudged++
				b.Logf("%s: not judged: %s", j.name, res.Reason)
				continue
			}
			judged++
			switch {
			case j.fails == "" && res.Status != grader.StatusPass:
				b.Errorf("%s: status %s, want pass\n%s", j.name, res.Status, dump(b, res))
			case j.fails != "" && res.Status != grader.StatusFail:
				b.Errorf("%s: status %s, want fail\n%s", j.name, res.Status, dump(b, res))
			case j.fails != "" && (res.Check(j.fails) == nil || res.Check(j.fails).Status != grader.CheckFail):
				b.Logf("%s: failed, but %s was not observed (%v)", j.name, j.fails, res.Check(j.fails))
			}
		}
		b.ReportMetric(float64(judged), "judged")
		b.ReportMetric(float64(unjudged), "busy-errors")
		n, err := sb.Leftovers(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n != 0 {
			b.Fatalf("%d containers or networks left behind", n)
		}
		b.ReportMetric(float64(n), "leftovers")
	}
}
