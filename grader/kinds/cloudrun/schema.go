package cloudrun

import "coldstart/grader"

// Schema implements grader.Schemer: the scenario block Scenario decodes,
// with the ranges normalise enforces.
func (Kind) Schema() grader.Schema {
	integer, number, object := grader.Integer, grader.Number, grader.Object
	checks := []string{}
	for _, c := range staticChecks {
		checks = append(checks, c.ID)
	}
	for _, c := range runChecks(&Scenario{}) {
		checks = append(checks, c.ID)
	}
	for _, c := range canaryChecks {
		checks = append(checks, c.ID)
	}
	for _, c := range canaryRunChecks(&CanaryScenario{}) {
		checks = append(checks, c.ID)
	}
	return grader.Schema{
		Scenario: []grader.Field{
			object("app", "what the run-worker lab does",
				integer("parallelism", "requests it works on at once (default 4)", 1, 64),
				integer("workMs", "the time one request waits on a downstream call (default 40)", 1, 2000),
				integer("initMs", "start-up work before it listens", 0, 5000)),
			grader.List("traffic", "the traffic profile, phase by phase; at most 15 s in all (required without canary)",
				object("", "", grader.Text("name", "what the phase stands for"),
					number("seconds", "how long the phase lasts", 0.1, 15).Need(),
					number("rps", "requests per second", 0, 500).Need())),
			object("slo", "the latency objective (required without canary)", integer("p99Ms", "the p99 latency the service must stay within", 1, 60000).Need()),
			object("budget", "the cost objective (required without canary)", number("instanceSeconds", "the most instance-seconds the morning may cost", 0.1, 100000).Need()),
			object("canary", "a traffic split instead of the morning: the service's revisions, the share and the tag the new revision must get",
				grader.Text("service", "the service's name").Need(),
				grader.List("revisions", "the revisions the service has before the update, oldest first (1–5)", grader.Text("", "")).Need(),
				grader.Text("current", "the revision that serves all traffic today; it must keep the rest").Need(),
				integer("share", "the percent of requests the new revision must get", 1, 99).Need(),
				grader.Text("tag", "the tag by which the new revision must be reachable").Need(),
				integer("requests", "requests sent to the service's address (default 1000)", minCanaryRequests, maxCanaryRequests),
				integer("tagRequests", "requests sent to the tag's address (default 50)", 10, 500)),
			object("trial", "how the grader's small Cloud Run behaves on this machine",
				integer("instanceCap", "the most instances the grader starts (default 6)", 1, 10),
				integer("instanceMemoryMB", "the memory of every instance's container (default 32)", 16, 256),
				number("targetUtilization", "the share of containerConcurrency the autoscaler keeps busy (default 0.6, Cloud Run's own concurrency target)", 0.01, 1),
				integer("scaleDownAfterIdleMs", "how long an idle instance above minScale lives (default 1000)", 100, 10000),
				integer("graceMs", "how long answers are awaited after the traffic ends (default 1000)", 100, 5000)),
		},
		Answer: "a Cloud Run service in YAML (`serving.knative.dev/v1` `Service`); with `canary`, its `spec.traffic` is judged too",
		Lab: "The morning is played on a small Cloud Run of the grader's own: instances of the `run-worker` lab behind a router and an autoscaler that follow the submitted " +
			"containerConcurrency, minScale and maxScale. At most `trial.instanceCap` (up to 10) instances really start, each with `trial.instanceMemoryMB` of memory whatever the " +
			"submitted limits say (CPU and memory are judged by the static checks); warm instances above the cap are counted as idle instance-seconds. " +
			"The traffic lasts at most 15 s in all and 500 requests per second per phase. With `canary`, one `run-worker` container runs per revision that takes traffic or has a tag, " +
			"and a router picks a revision for each request at random by the submitted percents and sends `TAG---SERVICE` requests to the tagged revision; what each revision served " +
			"is counted by its own container, and a share passes within four standard deviations of a binomial count of `canary.requests`. " +
			"A canary scores `run.split` 3 (core), `run.rest` 2 and `run.tag` 2; its static checks earn nothing.",
		Checks: checks,
		Labs:   []string{"run-worker"},
	}
}

// CheckSpec implements grader.SpecChecker with the checks the kind makes
// before grading (the total length of the traffic, among others).
func (Kind) CheckSpec(spec grader.Spec) []grader.SpecProblem {
	if _, err := scenarioOf(spec); err != nil {
		return []grader.SpecProblem{{Path: []string{"scenario"}, Message: "the scenario cannot be used: " + err.Error()}}
	}
	return nil
}
