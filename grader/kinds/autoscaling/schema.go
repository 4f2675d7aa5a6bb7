package autoscaling

import "coldstart/grader"

// Schema implements grader.Schemer: the scenario block LoadScenario
// decodes, with the bounds it enforces.
func (Kind) Schema() grader.Schema {
	text, integer, number := grader.Text, grader.Integer, grader.Number
	phase := grader.Object("", "one stretch of the day",
		text("name", "what the stretch stands for"),
		number("minutes", "its length in minutes of the day", 0.01, 1440).Need(),
		number("rps", "requests per second at its start (real time)", 0, maxRPS).Need(),
		number("toRps", "requests per second at its end, reached evenly; left out, the rate holds", 0, maxRPS),
	)
	return grader.Schema{
		Scenario: []grader.Field{
			text("resourceId", "the service, as service/CLUSTER/SERVICE").Need(),
			integer("desiredCount", "the service's task count before scaling starts", 0, maxTaskCap).Need(),
			grader.Object("app", "what one task (the run-worker lab) does",
				integer("parallelism", "requests a task works on at once", 1, 64).Need(),
				integer("workMs", "the work of one request, in ms", 1, 2000).Need(),
				number("memoryPercent", "the task's memory utilisation, which does not move with the load", 0, 100),
			).Need(),
			number("taskStartSeconds", "seconds of the day from a launch to the task's first request", 0, 600).Need(),
			integer("minuteMs", "how long one minute of the day plays, in real ms; the day must play in at most 20 s", 50, 2000).Need(),
			grader.List("traffic", "the day, stretch by stretch", phase).Need(),
			grader.Object("latency", "the latency objective",
				integer("thresholdMs", "a request slower than this is slow", 1, 60000).Need(),
				number("maxSlowPercent", "the largest share of slow (or failed) requests allowed", 0, 100).Need(),
			).Need(),
			grader.Object("budget", "the cost objective",
				number("taskSeconds", "the most task-seconds (of the day's time) the day may cost", 0.001, 1e9).Need(),
			).Need(),
			grader.Object("trial", "how many tasks this machine runs",
				integer("taskCap", "the most tasks the grader starts (default 8)", 1, maxTaskCap),
				integer("taskMemoryMB", "the memory of each task's container (default 32)", 16, 256),
				integer("graceMs", "how long answers are awaited after the day ends (default 1000)", 100, 5000),
			),
		},
		Checks: []string{CheckSchema, CheckTarget, CheckPolicy, CheckMetric, CheckTargetValue, CheckCooldowns, CheckLatency, CheckTaskSeconds},
		Labs:   []string{"run-worker"},
		Answer: "the JSON input of the two Application Auto Scaling calls: `RegisterScalableTarget` (the service's `MinCapacity` and `MaxCapacity`) and `PutScalingPolicy` (a `TargetTrackingScaling` policy: metric, `TargetValue`, cooldowns, `DisableScaleIn`)",
		Lab: "The service's tasks are `run-worker` containers started before the day (at most `trial.taskCap`, up to 10), reached through the relay; the grader sends the day's traffic round robin to the tasks in service and plays the scaler on a compressed clock: " +
			"one datapoint a minute, the scale-out alarm after 3 datapoints above the target, the scale-in alarm after 15 below nine tenths of it, proportional scale-out, the cooldowns and capacity limits as submitted, and `taskStartSeconds` before a launched task gets traffic. " +
			"CPU utilisation is the share of a task's request slots in use; memory utilisation is `app.memoryPercent`; ALBRequestCountPerTarget counts the requests each task received. Request times and rates are real; the day plays in at most 20 s.",
	}
}

// CheckSpec implements grader.SpecChecker with the checks LoadScenario
// makes.
func (Kind) CheckSpec(spec grader.Spec) []grader.SpecProblem {
	if _, err := LoadScenario(spec); err != nil {
		return []grader.SpecProblem{{Path: []string{"scenario"}, Message: err.Error()}}
	}
	return nil
}
