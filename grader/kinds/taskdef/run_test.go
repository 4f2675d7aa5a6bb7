package taskdef_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/taskdef"
	"coldstart/grader/sandbox/sandboxtest"
)

const exerciseDir = "../../../exercises/fargate-task-definition"

func newEngine(t testing.TB) *grader.Engine {
	sb := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := sb.LabImage(ctx); err != nil {
		t.Fatal(err)
	}
	return grader.NewEngine(sb, nil, taskdef.Kind{})
}

func dump(t testing.TB, res *grader.Result) string {
	b, _ := json.MarshalIndent(res, "", "  ")
	return string(b)
}

// TestExerciseAnswersInContainers grades the reference solution and every
// known-wrong answer through the real run phase.
func TestExerciseAnswersInContainers(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	eng := newEngine(t)
	t.Run("solution", func(t *testing.T) {
		t.Parallel()
		res := eng.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: ex.Solution})
		if res.Status != grader.StatusPass {
			t.Fatalf("solution: status %s, want pass\n%s", res.Status, dump(t, res))
		}
		for _, c := range res.Checks {
			if c.Status != grader.CheckPass {
				t.Errorf("solution: check %s is %s: %s", c.ID, c.Status, c.Message)
			}
		}
		t.Logf("solution graded in %d ms static + %d ms run", res.Timings.StaticMs, res.Timings.RunMs)
	})
	for _, w := range ex.Wrong {
		t.Run(w.File, func(t *testing.T) {
			t.Parallel()
			res := eng.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: w.Body})
			if res.Status != grader.StatusFail {
				t.Fatalf("%s: status %s, want fail\n%s", w.File, res.Status, dump(t, res))
			}
			c := res.Check(w.Fails)
			if c == nil || c.Status != grader.CheckFail {
				t.Fatalf("%s: check %s did not fail\n%s", w.File, w.Fails, dump(t, res))
			}
			if c.Message == "" {
				t.Errorf("%s: check %s failed without a message", w.File, w.Fails)
			}
			t.Logf("%s → %s: %s (observed: %s)", w.File, c.ID, c.Message, c.Observed)
		})
	}
}
