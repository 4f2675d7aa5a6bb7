package grader_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"coldstart/grader"
)

// TestRunOutOfTimeSaysHowLongItHad: a run that reaches the time limit
// leaves its unobserved checks skipped with the time it had, not with a
// claim about the machine that nothing measured.
func TestRunOutOfTimeSaysHowLongItHad(t *testing.T) {
	probe := grader.Check{ID: "run.probe", Title: "The app answers", Phase: grader.PhaseRun, MaxPoints: 1}
	kind := fakeKind{static: []grader.Check{fail("a")}, runChecks: []grader.Check{probe},
		grade: func(ctx context.Context, g *grader.Grading) error { <-ctx.Done(); return ctx.Err() }}
	res := grader.NewEngine(nil, nil, kind).Grade(context.Background(), grader.Request{Spec: grader.Spec{ID: "ex", Kind: "fake", TimeLimit: 400 * time.Millisecond}})
	if res.Status != grader.StatusFail {
		t.Fatalf("status %s (%s), want the static checks' fail to stand", res.Status, res.Reason)
	}
	c := res.Check(probe.ID)
	if c == nil || c.Status != grader.CheckSkip {
		t.Fatalf("probe %+v, want skipped", c)
	}
	if !regexp.MustCompile(`reached the grading's time limit after 0\.\d s, before this check`).MatchString(c.Message) {
		t.Errorf("probe message %q does not say how long the run had", c.Message)
	}
}
