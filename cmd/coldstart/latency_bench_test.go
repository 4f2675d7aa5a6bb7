package main

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/grader"
	"coldstart/grader/kinds"
	"coldstart/grader/sandbox/sandboxtest"
	"coldstart/server/grading"
)

// BenchmarkGradingLatency grades each built-in exercise's reference answer
// over and over with a warm lab image and reports the latency of one
// grading, p50 and p95, per exercise (one exercise per kind).
func BenchmarkGradingLatency(b *testing.B) {
	course, err := content.Load(builtin.FS())
	if err != nil {
		b.Fatal(err)
	}
	for _, ex := range course.Exercises {
		if ex.Solution == nil {
			continue
		}
		b.Run(ex.Kind+"/"+ex.ID, func(b *testing.B) {
			eng := grader.NewEngine(sandboxtest.New(b), slog.New(slog.NewTextHandler(io.Discard, nil)), kinds.All()...)
			ctx := context.Background()
			req := grader.Request{Spec: grading.SpecOf(ex), Seed: ex.SolutionSeed(), Body: ex.Solution}
			// The first grading builds or finds the lab image.
			if res := eng.Grade(ctx, req); res.Status != grader.StatusPass {
				b.Fatalf("reference answer: %s (%s)", res.Status, res.Reason)
			}
			var took []time.Duration
			b.ResetTimer()
			for b.Loop() {
				began := time.Now()
				res := eng.Grade(ctx, req)
				took = append(took, time.Since(began))
				if res.Status != grader.StatusPass {
					b.Fatalf("reference answer: %s (%s)", res.Status, res.Reason)
				}
			}
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			at := func(q float64) float64 {
				i := min(len(took)-1, int(q*float64(len(took))))
				return float64(took[i].Milliseconds())
			}
			b.ReportMetric(at(0.50), "p50-ms")
			b.ReportMetric(at(0.95), "p95-ms")
		})
	}
}
