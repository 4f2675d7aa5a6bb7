package sandbox_test

import (
	"context"
	"testing"
	"time"

	"coldstart/grader/sandbox/sandboxtest"
)

// BenchmarkProbeRelayVsInNetwork times one HTTP probe of an app in a
// grading network through the exec'd relay, as a grading probes, against
// the same probe made by a program inside the network: read back through an
// exec (the other way the grader could probe), and timed inside the
// network alone (what the probe costs with no carrier). The relay is
// already running and the lab image warm. Each iteration takes 40 probes
// each way; the metrics are their p50 and p95 in microseconds.
//
//	go test -run '^$' -bench BenchmarkProbeRelayVsInNetwork -benchtime 3x ./grader/sandbox/
func BenchmarkProbeRelayVsInNetwork(b *testing.B) {
	sb := sandboxtest.New(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := sb.LabImage(ctx); err != nil {
		b.Fatal(err)
	}
	var all sandboxtest.ProbeCosts
	for b.Loop() {
		pc := sandboxtest.MeasureProbes(b, sb, 40)
		all.Relay = append(all.Relay, pc.Relay...)
		all.Exec = append(all.Exec, pc.Exec...)
		all.InNetwork = append(all.InNetwork, pc.InNetwork...)
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) }
	for _, m := range []struct {
		name string
		ds   []time.Duration
	}{{"relay", all.Relay}, {"exec", all.Exec}, {"innet", all.InNetwork}} {
		b.ReportMetric(us(sandboxtest.Quantile(m.ds, 0.50)), m.name+"-p50-µs")
		b.ReportMetric(us(sandboxtest.Quantile(m.ds, 0.95)), m.name+"-p95-µs")
	}
	b.ReportMetric(0, "ns/op")
}
