package subnet_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/subnet"
	"coldstart/grader/sandbox/sandboxtest"
)

const exerciseDir = "../../../exercises/subnet-sizing"

// solutionSeed is the seed the exercise's reference and wrong answers are
// written for (solutionSeed in its front matter).
const solutionSeed = 0

// recorder keeps the events of a grading.
type recorder struct {
	mu     sync.Mutex
	events []grader.Event
}

func (r *recorder) add(e grader.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) progress() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Type == grader.EventProgress {
			out = append(out, e.Message)
		}
	}
	return out
}

func TestExerciseAnswersThroughTheRunPhase(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	sb := sandboxtest.New(t)
	warm(t, sb)
	engine := slowHostEngine(sb, &ex)
	ctx := context.Background()

	t.Run("Reference", func(t *testing.T) {
		var rec recorder
		start := time.Now()
		res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Seed: solutionSeed, Body: ex.Solution, Events: rec.add})
		t.Logf("graded in %s (run phase %d ms)", time.Since(start).Round(time.Millisecond), res.Timings.RunMs)
		if res.Status != grader.StatusPass || res.Score != 1 {
			t.Fatalf("status %s score %v, want pass 1; checks: %+v; reason %q", res.Status, res.Score, res.Checks, res.Reason)
		}
		d := res.Check(subnet.CheckDeploy)
		if d == nil || d.Phase != grader.PhaseRun || d.Status != grader.CheckPass {
			t.Fatalf("deploy check: %+v", d)
		}
		if !strings.Contains(d.Observed, "22 of 22 tasks got an address") {
			t.Errorf("observed %q", d.Observed)
		}
		prog := rec.progress()
		if !contains(prog, "task 22/22 → 10.42.164.") {
			t.Errorf("no progress line for the last task: %q", prog)
		}
	})
	for _, w := range ex.Wrong {
		t.Run(w.File, func(t *testing.T) {
			res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Seed: solutionSeed, Body: w.Body})
			if res.Status != grader.StatusFail || !res.Gradable {
				t.Fatalf("status %s gradable %v, want fail; reason %q", res.Status, res.Gradable, res.Reason)
			}
			c := res.Check(w.Fails)
			if c == nil || c.Status != grader.CheckFail {
				t.Fatalf("check %s: %+v; all checks: %+v", w.Fails, c, res.Checks)
			}
			if c.Message == "" || c.Field == "" {
				t.Errorf("check %s has no message or field: %+v", w.Fails, c)
			}
			t.Logf("%s: %s (score %.3f)", w.Fails, c.Message, res.Score)
		})
	}
}

func contains(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}
