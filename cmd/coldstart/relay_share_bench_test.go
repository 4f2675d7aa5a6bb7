package main

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/grader"
	"coldstart/grader/kinds"
	"coldstart/grader/sandbox"
	"coldstart/grader/sandbox/sandboxtest"
	"coldstart/server/grading"
)

// BenchmarkRelayShareOfGrading puts the relay's cost beside the latency of
// whole gradings. It first times one probe through the relay and the same
// probe inside the grading network (sandboxtest.MeasureProbes); the
// difference of their medians is what the relay adds to one connection.
// Then it grades each built-in exercise's reference answer with a warm lab
// image, counting the connections its grading opens through a relay, and
// reports per exercise (one per kind): the grading's p50 and p95, the
// relay connections of one grading, and the share of the median grading
// the relay adds (connections × added cost per connection ÷ p50).
//
//	go test -run '^$' -bench BenchmarkRelayShareOfGrading -benchtime 4x ./cmd/coldstart/
func BenchmarkRelayShareOfGrading(b *testing.B) {
	course, err := content.Load(builtin.FS())
	if err != nil {
		b.Fatal(err)
	}
	sb := sandboxtest.New(b)
	ctx := context.Background()
	if _, err := sb.LabImage(ctx); err != nil {
		b.Fatal(err)
	}
	pc := sandboxtest.MeasureProbes(b, sb, 60)
	relay, inNet := sandboxtest.Quantile(pc.Relay, 0.5), sandboxtest.Quantile(pc.InNetwork, 0.5)
	added := max(0, relay-inNet)
	b.Logf("one probe: %.2f ms through the relay, %.2f ms inside the network (p95 %.2f and %.2f ms): the relay adds %.2f ms",
		ms(relay), ms(inNet), ms(sandboxtest.Quantile(pc.Relay, 0.95)), ms(sandboxtest.Quantile(pc.InNetwork, 0.95)), ms(added))

	var dials atomic.Int64
	sandbox.ObserveRelayDials(func(time.Duration, error) { dials.Add(1) })
	defer sandbox.ObserveRelayDials(nil)
	eng := grader.NewEngine(sb, slog.New(slog.NewTextHandler(io.Discard, nil)), kinds.All()...)
	for _, ex := range course.Exercises {
		if ex.Solution == nil {
			continue
		}
		b.Run(ex.Kind+"/"+ex.ID, func(b *testing.B) {
			req := grader.Request{Spec: grading.SpecOf(ex), Seed: ex.SolutionSeed(), Body: ex.Solution}
			if res := eng.Grade(ctx, req); res.Status != grader.StatusPass {
				b.Fatalf("reference answer: %s (%s)", res.Status, res.Reason)
			}
			var took []time.Duration
			var conns int64
			for b.Loop() {
				before := dials.Load()
				began := time.Now()
				res := eng.Grade(ctx, req)
				took = append(took, time.Since(began))
				conns += dials.Load() - before
				if res.Status != grader.StatusPass {
					b.Fatalf("reference answer: %s (%s)", res.Status, res.Reason)
				}
			}
			p50 := sandboxtest.Quantile(took, 0.5)
			perGrading := float64(conns) / float64(len(took))
			b.ReportMetric(ms(p50), "p50-ms")
			b.ReportMetric(ms(sandboxtest.Quantile(took, 0.95)), "p95-ms")
			b.ReportMetric(perGrading, "relay-conns")
			b.ReportMetric(100*perGrading*float64(added)/float64(p50), "relay-%")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
