package subnet_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/subnet"
	"coldstart/grader/sandbox/sandboxtest"
)

// BenchmarkGrade measures whole gradings of the reference answer (seed 0:
// 22 tasks and 6 other ENIs in two networks), run phase and clean-up
// included, with the lab image already built. It reports the median and
// 95th percentile; run with -benchtime=10x or more for a useful p95.
func BenchmarkGrade(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	sb := sandboxtest.New(b)
	warm(b, sb)
	engine := grader.NewEngine(sb, nil, subnet.Kind{})
	ctx := context.Background()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Seed: solutionSeed, Body: ex.Solution})
		took = append(took, time.Since(start))
		if res.Status != grader.StatusPass {
			b.Fatalf("status %s: %s\nlog:\n%s", res.Status, res.Reason, res.Log)
		}
	}
	reportPercentiles(b, took)
}

// BenchmarkGradeStudents grades, at iteration i, the smallest correct plan
// of seed i+1: one student after another, so the figures follow the spread
// of container counts across variants (6 to 49, median about 24).
func BenchmarkGradeStudents(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	sb := sandboxtest.New(b)
	warm(b, sb)
	engine := grader.NewEngine(sb, nil, subnet.Kind{})
	ctx := context.Background()
	var took []time.Duration
	notJudged := 0
	seed := int64(0)
	for b.Loop() {
		seed++
		b.StopTimer()
		v, err := engine.Variant(ex.Spec, seed)
		if err != nil {
			b.Fatal(err)
		}
		req := independentRequirement(b, v.Params)
		body := answer(layout(req.vpc, req.azs, req.smallestBits))
		b.StartTimer()
		start := time.Now()
		res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Seed: seed, Body: body})
		d := time.Since(start)
		switch {
		case res.Status == grader.StatusError && !res.Gradable:
			// The host was too busy to finish within the time limit: the
			// student is told the attempt does not count. Counted, not timed.
			notJudged++
			b.Logf("seed %d: %d containers: not judged after %s: %s", seed, containers(req), d.Round(time.Millisecond), res.Reason)
			continue
		case res.Status != grader.StatusPass:
			b.Fatalf("seed %d: status %s: %s\nlog:\n%s", seed, res.Status, res.Reason, res.Log)
		}
		took = append(took, d)
		b.Logf("seed %d: %d containers in %s", seed, containers(req), d.Round(time.Millisecond))
	}
	reportPercentiles(b, took)
	b.ReportMetric(float64(notJudged), "not-judged")
}

// BenchmarkStatic measures a grading that stops after the static checks.
func BenchmarkStatic(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	engine := grader.NewEngine(nil, nil, subnet.Kind{})
	body := []byte(`{"subnets": ["10.42.164.0/27", "10.42.164.0/27"]}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Seed: solutionSeed, Body: body}); res.Status != grader.StatusFail {
			b.Fatalf("status %s", res.Status)
		}
	}
}

func reportPercentiles(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	at := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
	b.ReportMetric(float64(at(0.50).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(at(0.95).Milliseconds()), "p95-ms")
}
