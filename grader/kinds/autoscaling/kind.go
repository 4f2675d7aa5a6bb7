// Package autoscaling is the grader kind "autoscaling": ECS Service Auto
// Scaling with a target tracking policy. A submission is the input of the
// two Application Auto Scaling calls, RegisterScalableTarget (the service's
// capacity range) and PutScalingPolicy (the metric, its target value, the
// cooldowns and whether scale-in is allowed). The static phase refuses what
// the APIs would refuse; the run phase plays a day of traffic against real
// run-worker containers as the service's tasks, while the grader plays the
// scaler on a compressed clock with the submitted settings, and judges the
// share of slow requests and the task-seconds the day cost.
package autoscaling

import (
	"context"
	"fmt"

	"coldstart/grader"
)

// Kind grades ECS Service Auto Scaling settings.
type Kind struct{}

var _ grader.Kind = Kind{}

// Name is the kind as written in exercise front matter.
func (Kind) Name() string { return "autoscaling" }

// Plan parses the submission, judges it statically, and plays the day when
// the APIs would accept it.
func (Kind) Plan(g *grader.Grading) (*grader.Plan, error) {
	sc, err := LoadScenario(g.Spec)
	if err != nil {
		return nil, fmt.Errorf("the exercise's scenario cannot be used: %w", err)
	}
	sub, probs, err := Parse(g.Body)
	if err != nil {
		return nil, err
	}
	p := &grader.Plan{RunChecks: runChecks(sc)}
	if len(probs) > 0 {
		p.Checks = schemaFailure(probs)
	} else {
		p.Checks = judge(sub, sc)
		st := settingsOf(sub)
		p.Run = func(ctx context.Context, g *grader.Grading) error { return playDay(ctx, g, sc, st) }
	}
	if p.Run == nil {
		// Nothing to run: the run checks are skipped with the reason.
		p.Run = func(context.Context, *grader.Grading) error { return nil }
		p.Refused = "not run: the APIs would refuse these fields (see the checks above)"
	}
	for _, c := range p.Checks {
		if c.Status == grader.CheckFail {
			p.Refused = "not run: the APIs would refuse these settings (see the checks above)"
			break
		}
	}
	return p, nil
}
