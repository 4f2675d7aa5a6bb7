package iam

import "coldstart/grader"

// Schema implements grader.Schemer: the scenario block Scenario decodes.
func (Kind) Schema() grader.Schema {
	text := grader.Text
	list := func(name, doc string) grader.Field { return grader.List(name, doc, text("", "")) }
	return grader.Schema{
		Scenario: []grader.Field{
			text("account", "the 12-digit AWS account id").Need(),
			text("region", "the region of the task").Need(),
			text("service", "the principal both roles must trust").Only("ECS hands roles to tasks through ecs-tasks.amazonaws.com", "ecs-tasks.amazonaws.com").Need(),
			text("image", "the private ECR image the agent pulls, REGISTRY/NAME:TAG").Need(),
			text("logGroup", "the awslogs log group").Need(),
			text("logStreamPrefix", "the awslogs-stream-prefix; streams are PREFIX/CONTAINER/TASK-ID"),
			grader.Map("secrets", "environment variable → Secrets Manager ARN the agent fetches", text("", "")),
			list("reads", "bucket/key objects the app must read with the task role").Need(),
			grader.Map("objects", "what the simulated S3 holds: bucket/key → content", text("", "")),
			list("forbidden", `calls the app attempts at run time, each "Operation bucket/key" or "GetSecretValue ARN", which the task role must refuse`),
			list("untrustedPrincipals", `principals that must not assume either role: "Service NAME" or "AWS ARN"`),
			list("executionMustDeny", `"action resource" requests the execution role must deny`),
			list("taskMustDeny", `"action resource" requests the task role must deny`),
		},
		Checks: []string{checkDocuments, checkTrust, checkExecutionAllow, checkExecutionLeast, checkTaskAllow, checkTaskLeast,
			checkRunStart, checkRunRead, checkRunDenied, checkRunLogs},
		Labs: []string{"aws-sim"},
	}
}

// CheckSpec implements grader.SpecChecker with the checks the kind makes
// before grading.
func (Kind) CheckSpec(spec grader.Spec) []grader.SpecProblem {
	if _, err := decodeScenario(spec); err != nil {
		return []grader.SpecProblem{{Path: []string{"scenario"}, Message: err.Error()}}
	}
	return nil
}
