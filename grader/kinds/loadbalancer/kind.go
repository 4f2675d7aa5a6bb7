// Package loadbalancer is the grader kind "loadbalancer": an ECS service
// behind an Application Load Balancer (the service's loadBalancers, its
// grace period and deployment window, the task's stopTimeout, and the
// target group's type, health check and deregistration delay). The static
// phase refuses what the platforms would refuse; the run phase plays the
// load balancer in a probe container inside the grading's network, in
// front of api-worker tasks, while the grader plays ECS rolling a new
// deployment under steady traffic. It passes when every task is replaced
// in time and no request fails.
package loadbalancer

import (
	"context"

	"coldstart/grader"
)

// Kind grades load-balanced services.
type Kind struct{}

var _ grader.Kind = Kind{}

// Name is the kind as written in exercise front matter.
func (Kind) Name() string { return "loadbalancer" }

// Plan parses the submission, judges it statically, and plays the
// deployment when the platforms would accept it.
func (Kind) Plan(g *grader.Grading) (*grader.Plan, error) {
	sc, err := LoadScenario(g.Spec)
	if err != nil {
		return nil, err
	}
	sub, err := Parse(g.Body)
	if err != nil {
		return nil, err
	}
	st := settingsOf(sub)
	p := &grader.Plan{Checks: judge(sub, sc), RunChecks: runChecksFor(sc),
		Run: func(ctx context.Context, g *grader.Grading) error { return play(ctx, g, sc, st) }}
	for _, c := range p.Checks {
		if c.Status == grader.CheckFail {
			p.Refused = "not run: the platforms would refuse these settings (see the checks above)"
			break
		}
	}
	return p, nil
}
