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
	return grader.Schema{
		Scenario: []grader.Field{
			object("app", "what the run-worker lab does",
				integer("parallelism", "requests it works on at once (default 4)", 1, 64),
				integer("workMs", "the time one request waits on a downstream call (default 40)", 1, 2000),
				integer("initMs", "start-up work before it listens", 0, 5000)),
			grader.List("traffic", "the traffic profile, phase by phase; at most 15 s in all",
				object("", "", grader.Text("name", "what the phase stands for"),
					number("seconds", "how long the phase lasts", 0.1, 15).Need(),
					number("rps", "requests per second", 0, 500).Need())).Need(),
			object("slo", "the latency objective", integer("p99Ms", "the p99 latency the service must stay within", 1, 60000).Need()).Need(),
			object("budget", "the cost objective", number("instanceSeconds", "the most instance-seconds the morning may cost", 0.1, 100000).Need()).Need(),
			object("trial", "how the grader's small Cloud Run behaves on this machine",
				integer("instanceCap", "the most instances the grader starts (default 6)", 1, 10),
				integer("instanceMemoryMB", "the memory of every instance's container (default 32)", 16, 256),
				number("targetUtilization", "the share of containerConcurrency the autoscaler keeps busy (default 0.7)", 0.01, 1),
				integer("scaleDownAfterIdleMs", "how long an idle instance above minScale lives (default 1000)", 100, 10000),
				integer("graceMs", "how long answers are awaited after the traffic ends (default 1000)", 100, 5000)),
		},
		Answer: "a Cloud Run service in YAML (`serving.knative.dev/v1` `Service`)",
		Lab: "The morning is played on a small Cloud Run of the grader's own: instances of the `run-worker` lab behind a router and an autoscaler that follow the submitted " +
			"containerConcurrency, minScale and maxScale. At most `trial.instanceCap` (up to 10) instances really start, each with `trial.instanceMemoryMB` of memory whatever the " +
			"submitted limits say (CPU and memory are judged by the static checks); warm instances above the cap are counted as idle instance-seconds. " +
			"The traffic lasts at most 15 s in all and 500 requests per second per phase.",
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
