// Package iam grades the execution-role-versus-task-role exercise (kind
// "iam"). The submission holds both roles of a Fargate task, each with a
// trust policy and a permission policy. Static checks evaluate the documents
// with the policy package against what the ECS agent and the application
// need and what they must never be able to do; run checks start the task
// against simulated AWS endpoints (the aws-sim lab) on an internal network:
// the agent's steps use the execution role, the application (the
// report-reader lab) uses the task role, and every call is authorised
// against the submitted policies.
package iam

import (
	"context"

	"coldstart/grader"
)

// Kind grades "iam" exercises.
type Kind struct{}

var _ grader.Kind = Kind{}

// Name is the kind as written in exercise front matter.
func (Kind) Name() string { return "iam" }

// Grade reads the submission, records the static checks, then starts the
// task when IAM would accept all four documents.
func (Kind) Plan(g *grader.Grading) (*grader.Plan, error) {
	sc, err := decodeScenario(g.Spec)
	if err != nil {
		return nil, err
	}
	p, err := parseSubmission(g.Body)
	if err != nil {
		return nil, err
	}
	plan := &grader.Plan{Checks: staticChecks(sc, p), RunChecks: runChecks(sc),
		Run: func(ctx context.Context, g *grader.Grading) error { return runTask(ctx, g, sc, p) }}
	if !p.valid() {
		plan.Refused = "IAM would reject a policy document (see the first check), so the task was not started"
	}
	return plan, nil
}
