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
			text("service", "the principal both roles must trust (ecs-tasks.amazonaws.com for ECS tasks)").Need(),
			text("image", "the private ECR image the agent pulls, REGISTRY/NAME:TAG").Need(),
			text("logGroup", "the awslogs log group").Need(),
			text("logStreamPrefix", "the awslogs-stream-prefix; streams are PREFIX/CONTAINER/TASK-ID"),
			grader.Map("secrets", "environment variable → Secrets Manager ARN the agent fetches", text("", "")),
			list("reads", "bucket/key objects the app must read with the task role").Need(),
			list("readScope", "bucket/key patterns the app may read (its job covers every object they match); by default exactly `reads`"),
			grader.Map("objects", "what the simulated S3 holds: bucket/key → content", text("", "")),
			list("forbidden", `calls the app attempts at run time, each "Operation bucket/key" or "GetSecretValue ARN", which the task role must refuse`),
			list("untrustedPrincipals", `principals that must not assume either role: "Service NAME" or "AWS ARN"`),
			list("executionMustDeny", `"action resource" requests the execution role must deny`),
			list("taskMustDeny", `"action resource" requests the task role must deny`),
		},
		Answer: "a JSON object with `executionRole` and `taskRole`, each with a `trustPolicy` and a `permissionPolicy` (IAM policy documents)",
		Lab: "The `aws-sim` lab plays ECR, CloudWatch Logs, Secrets Manager, S3, STS and the container credential endpoint on the grading's network, enforcing the submitted policies. " +
			"The agent pulls `image`, fetches `secrets` and opens a log stream under `logGroup` and `logStreamPrefix`; the app reads `reads` from `objects` and tries every `forbidden` call. " +
			"The evaluator knows Allow, Deny, NotAction, NotResource and the * and ? wildcards; it does not evaluate Condition blocks, so a permission behind one counts as not granted.",
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
