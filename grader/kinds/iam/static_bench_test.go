package iam_test

import (
	"path/filepath"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/iam"
)

// BenchmarkStaticPhase grades answers with no container engine, so only the
// static phase runs: parsing, validation, trust and the catalog evaluation.
// The administrator policy is the worst case: "*" brings every service of
// the catalog into scope for both roles.
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
			for b.Loop() {
				res := grade(b, e, ex.Spec, body)
				if len(res.Checks) == 0 {
					b.Fatal("no checks")
				}
			}
		})
	}
}
