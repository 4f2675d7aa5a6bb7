package autoscaling_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/autoscaling"
	"coldstart/grader/sandbox/sandboxtest"
)

// runWhy holds a phrase of each run-phase wrong answer's failure.
var runWhy = map[string]string{
	"wrong/max-too-low.json":                 "sat at its MaxCapacity of 4 tasks",
	"wrong/target-too-high.json":             "With the target at 90",
	"wrong/memory-metric.json":               "memory stays at 35%",
	"wrong/scale-out-cooldown-too-long.json": "within the 900 s scale-out cooldown",
	"wrong/scale-in-disabled.json":           "Scale-in is disabled",
	"wrong/min-too-high.json":                "MinCapacity keeps 6 tasks",
	"wrong/target-too-low.json":              "With the target at 30",
}

// TestDaysInContainers plays the reference and every run-phase wrong answer
// for real: the tasks are run-worker containers, reached through the relay.
func TestDaysInContainers(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := sb.LabImage(ctx); err != nil {
		t.Fatal(err)
	}
	engine := grader.NewEngine(sb, nil, autoscaling.Kind{})
	ex := gradertest.Load(t, exerciseDir)
	t.Run("solution.json", func(t *testing.T) {
		res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Body: ex.Solution})
		if res.Status != grader.StatusPass || res.Score != 1 {
			t.Fatalf("status %s score %v reason %q: %+v\n%s", res.Status, res.Score, res.Reason, res.Checks, res.Log)
		}
		t.Logf("reference: %s; %s; run %d ms", res.Check(autoscaling.CheckLatency).Message, res.Check(autoscaling.CheckTaskSeconds).Message, res.Timings.RunMs)
	})
	n := 0
	for _, w := range ex.Wrong {
		phrase, ok := runWhy[w.File]
		if !ok {
			continue
		}
		n++
		t.Run(w.File, func(t *testing.T) {
			res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Body: w.Body})
			c := res.Check(w.Fails)
			if res.Status != grader.StatusFail || c == nil || c.Status != grader.CheckFail || !strings.Contains(c.Message, phrase) {
				t.Fatalf("status %s reason %q, check %s: %+v\nall: %+v\n%s", res.Status, res.Reason, w.Fails, c, res.Checks, res.Log)
			}
			t.Logf("%s: %s (run %d ms)", w.Fails, c.Message, res.Timings.RunMs)
		})
	}
	if n != len(runWhy) {
		t.Fatalf("%d of the %d run-phase wrong answers are listed in exercise.md", n, len(runWhy))
	}
}
