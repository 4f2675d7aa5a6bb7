package autoscaling_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/autoscaling"
	"coldstart/grader/sandbox/sandboxtest"
)

// BenchmarkReferenceGrading grades the reference answer in containers, with
// the lab image already built, and reports the grading latency's median
// and 95th percentile.
func BenchmarkReferenceGrading(b *testing.B) {
	sb := sandboxtest.New(b)
	ctx := context.Background()
	if _, err := sb.LabImage(ctx); err != nil {
		b.Fatal(err)
	}
	engine := grader.NewEngine(sb, nil, autoscaling.Kind{})
	ex := gradertest.Load(b, exerciseDir)
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Body: ex.Solution})
		took = append(took, time.Since(start))
		if res.Status != grader.StatusPass {
			b.Fatalf("%s: %+v", res.Status, res.Checks)
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(took[len(took)/2].Seconds(), "p50-s")
	b.ReportMetric(took[(len(took)*95+99)/100-1].Seconds(), "p95-s")
}
