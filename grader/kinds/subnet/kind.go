// Package subnet is the grader kind "subnet": the student plans one VPC
// subnet per Availability Zone for a Fargate service, and the plan is checked
// against AWS's rules and then played out as a rolling deploy in real
// containers, one network per subnet, every task taking one address.
package subnet

import (
	"context"

	"coldstart/grader"
)

// Kind grades subnet plans.
type Kind struct{}

var (
	_ grader.Kind      = Kind{}
	_ grader.Varianter = Kind{}
)

// Name is the kind as written in exercise front matter.
func (Kind) Name() string { return "subnet" }

// Variant draws the student's scenario from the seed.
func (Kind) Variant(spec grader.Spec, seed int64) (*grader.Variant, error) {
	s, err := NewScenario(spec, seed)
	if err != nil {
		return nil, err
	}
	return &grader.Variant{Seed: seed, Params: s.Params()}, nil
}

// Grade judges the plan statically, then plays out the deploy when the
// platform would create every subnet, even one too small: the stalled deploy
// is what the student should see.
func (Kind) Plan(g *grader.Grading) (*grader.Plan, error) {
	s, err := NewScenario(g.Spec, g.Seed)
	if err != nil {
		return nil, err
	}
	a, err := ParseAnswer(g.Body)
	if err != nil {
		return nil, err
	}
	plan := Evaluate(s, a)
	check := grader.Check{ID: CheckDeploy, Title: "The rolling deploy finds an address for every task", Phase: grader.PhaseRun, MaxPoints: 2}
	p := &grader.Plan{Checks: plan.Checks, RunChecks: []grader.Check{check},
		Run: func(ctx context.Context, g *grader.Grading) error { return deploy(ctx, g, s, plan.Subnets, check) }}
	if plan.Subnets == nil {
		p.Refused = plan.Blocked
	}
	return p, nil
}
