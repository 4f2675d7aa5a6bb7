package main

import (
	"context"
	"testing"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/grader"
	"coldstart/server/grading"
)

// Every exercise of the built-in course, graded in real containers: the
// untouched starter scores 0, the reference solution 1, and an answer whose core requirement fails (the
// task never becomes healthy, the service misses its SLO) at most half.
func TestScoresAreEarned(t *testing.T) {
	course, err := content.Load(builtin.FS())
	if err != nil {
		t.Fatal(err)
	}
	eng := checkEngine(t)
	grade := func(t *testing.T, ex *content.Exercise, body []byte) *grader.Result {
		res := eng.Grade(context.Background(), grader.Request{Spec: grading.SpecOf(ex), Seed: ex.SolutionSeed(), Body: body})
		if res.Status == grader.StatusError {
			t.Fatalf("not graded: %s", res.Reason)
		}
		return res
	}
	for _, ex := range course.Exercises {
		t.Run(ex.ID+"/starter", func(t *testing.T) {
			res := grade(t, ex, []byte(ex.Starter))
			if res.Status != grader.StatusFail || res.Score != 0 {
				t.Errorf("the starter is %s with score %v, want fail with 0 (%s)", res.Status, res.Score, res.ScoreNote)
				for _, c := range res.Checks {
					if c.Points > 0 {
						t.Logf("  %s earns %v of %v", c.ID, c.Points, c.MaxPoints)
					}
				}
			}
		})
	}
	// The rules take nothing from a full answer: a check that holds
	// vacuously in the reference counts for nothing rather than against it.
	for _, ex := range course.Exercises {
		t.Run(ex.ID+"/solution", func(t *testing.T) {
			if res := grade(t, ex, ex.Solution); res.Status != grader.StatusPass || res.Score != 1 {
				t.Errorf("the reference solution is %s with score %v, want pass with 1 (%s)", res.Status, res.Score, res.ScoreNote)
			}
		})
	}
	capped := []struct{ exercise, file string }{
		{"fargate-task-definition", "wrong/roles-swapped.json"},
		{"fargate-task-definition", "wrong/health-check-wrong-port.json"},
		{"fargate-task-definition", "wrong/unknown-repository.json"},
		{"cloud-run-concurrency", "wrong/concurrency-80.yaml"},
		{"cloud-run-concurrency", "wrong/min-zero.yaml"},
	}
	for _, tt := range capped {
		t.Run(tt.exercise+"/"+tt.file, func(t *testing.T) {
			ex := course.Exercise(tt.exercise)
			var body []byte
			for _, w := range ex.Wrong {
				if w.File == tt.file {
					body = w.Body
				}
			}
			if body == nil {
				t.Fatalf("%s has no known-wrong answer %s", tt.exercise, tt.file)
			}
			res := grade(t, ex, body)
			if res.Score > grader.CoreCap {
				t.Errorf("score %v, want at most %v: %s", res.Score, grader.CoreCap, res.ScoreNote)
			}
			t.Logf("score %v: %s", res.Score, res.ScoreNote)
		})
	}
}
