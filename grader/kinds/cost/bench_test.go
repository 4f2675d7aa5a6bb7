package cost_test

import (
	"context"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/cost"
)

// BenchmarkGradeReference measures one whole grading of the reference
// answer: parsing, the sheet's checks and every line's arithmetic.
func BenchmarkGradeReference(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	engine := grader.NewEngine(nil, nil, cost.Kind{})
	req := grader.Request{Spec: ex.Spec, Body: ex.Solution}
	for b.Loop() {
		if res := engine.Grade(context.Background(), req); res.Status != grader.StatusPass {
			b.Fatalf("%+v", res)
		}
	}
}
