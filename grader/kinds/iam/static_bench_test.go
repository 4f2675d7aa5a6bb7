package iam_test

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/iam"
)

// BenchmarkStaticPhase grades answers with no container engine, so only the
// static phase runs: parsing, validation, trust and the catalog evaluation.
// The administrator policy is the worst case: "*" brings every service of
// the catalog into scope for both roles. Besides wall time per grading it
// reports the process CPU time per grading (cpu-ns/op), which the other
// work on a shared machine disturbs less.
func BenchmarkStaticPhase(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	e := grader.NewEngine(nil, quiet, iam.Kind{})
	bodies := map[string][]byte{"reference": ex.Solution}
	for _, w := range ex.Wrong {
		switch filepath.Base(w.File) {
		case "admin-star.json", "task-s3-star.json":
			bodies[filepath.Base(w.File)] = w.Body
		}
	}
	for name, body := range bodies {
		b.Run(name, func(b *testing.B) {
			before := cpuTime(b)
			for b.Loop() {
				res := grade(b, e, ex.Spec, body)
				if len(res.Checks) == 0 {
					b.Fatal("no checks")
				}
			}
			b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
