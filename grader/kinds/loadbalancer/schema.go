package loadbalancer

import "coldstart/grader"

// Schema implements grader.Schemer: the scenario block Scenario decodes,
// with the bounds LoadScenario enforces.
func (Kind) Schema() grader.Schema {
	text, integer, number := grader.Text, grader.Integer, grader.Number
	return grader.Schema{
		Scenario: []grader.Field{
			text("containerName", "the task definition's app container").Need(),
			integer("containerPort", "the app container's port mapping", 1, 65535).Need(),
			text("targetGroupArn", "the target group the service must name").Need(),
			integer("desiredCount", "the service's tasks; at most 4, so a grading starts few containers", 1, 4).Need(),
			number("startupSeconds", "how long the app takes before /healthz answers 200", 0, 600),
			number("shortRequestSeconds", "the work of a short request", 0.001, 600).Need(),
			number("longRequestSeconds", "the work of a long request (at least a short one's)", 0.001, 600).Need(),
			integer("longEvery", "every longEvery-th request is a long one", 1, 1000000).Need(),
			number("requestsPerSecond", "the steady traffic, in real time", 0.001, 100).Need(),
			number("deployDeadlineSeconds", "how long the deployment may take; it must play in at most 30 real seconds", 0.001, 600).Need(),
			number("timeScale", "how many platform seconds one real second plays", 1, 20).Need(),
			{Name: "newRevisionFails", Type: grader.TypeBoolean, Doc: "the deployed revision never passes its health check, so the deployment must end rolled back"},
		},
		Checks: []string{CheckService, CheckTargetGroup, CheckHealthCheck, CheckTimings, CheckHealthy, CheckDeploy, CheckRolledBack, CheckNoFailed},
		Labs:   []string{"api-worker"},
		Answer: "an ECS service's load-balancer settings and its target group in JSON: `loadBalancers`, `healthCheckGracePeriodSeconds`, `deploymentConfiguration`, `stopTimeout` and `targetGroup`",
		Lab: "The service's tasks run the `api-worker` lab behind a load balancer of the grader's own (the `lb-probe` lab) that health-checks and drains targets as the submitted target group says, " +
			"while steady traffic plays through a rolling deployment. Time runs `timeScale` times faster; at most 4 tasks and 30 real seconds of deployment fit in a grading.",
	}
}

// CheckSpec implements grader.SpecChecker with the checks the kind makes
// before grading.
func (Kind) CheckSpec(spec grader.Spec) []grader.SpecProblem {
	if _, err := LoadScenario(spec); err != nil {
		return []grader.SpecProblem{{Path: []string{"scenario"}, Message: err.Error()}}
	}
	return nil
}
