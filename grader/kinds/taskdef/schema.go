package taskdef

import (
	"time"

	"coldstart/grader"
)

// appLab is the lab the app container runs; sidecars run the pause lab.
const appLab = "api-worker"

// Schema implements grader.Schemer: the scenario block Scenario decodes.
func (Kind) Schema() grader.Schema {
	text, object, integer := grader.Text, grader.Object, grader.Integer
	checks := []string{"taskdef.schema"}
	for _, r := range platformRules {
		checks = append(checks, r.id)
	}
	for _, r := range scenarioRules(&Scenario{}) {
		checks = append(checks, r.id)
	}
	for _, c := range runChecks {
		checks = append(checks, c.ID)
	}
	return grader.Schema{
		Scenario: []grader.Field{
			object("size", "the task size the service needs (min) and the budget allows (max), in CPU units and MiB",
				integer("minCpu", "least CPU units", 256, 16384), integer("maxCpu", "most CPU units", 256, 16384),
				integer("minMemory", "least memory in MiB", 512, 122880), integer("maxMemory", "most memory in MiB", 512, 122880)),
			object("app", "the app container",
				text("name", "the name the app container must have").Need(),
				text("repository", "the image repository the app container must run; images must map it to the api-worker lab").Need(),
				integer("port", "the port the app listens on (default 8080)", 1, 65535).
					Only("the api-worker lab listens on 8080, and the health-check and port checks probe the port it listens on", "8080")),
			grader.List("secrets", "secrets the app must receive through secrets, never environment",
				object("", "", text("name", "the environment variable").Need(), text("valueFrom", "the Secrets Manager ARN").Need())),
			object("roles", "the ARNs the task definition must name",
				text("execution", "executionRoleArn"), text("task", "taskRoleArn")),
			object("logs", "where awslogs must send the app's output",
				text("group", "awslogs-group"), text("region", "awslogs-region")),
			object("health", "what the health check must probe",
				text("path", "the app's health endpoint (default /healthz)").Only("the api-worker lab serves its health at /healthz", "/healthz")),
			grader.Duration("startup", "the app's worst-case start-up time (default 10s)", time.Second, 300*time.Second),
			grader.Duration("drain", "how long the app needs to drain after SIGTERM (default 20s); a stop timeout covers at most 120 s", time.Second, 120*time.Second),
			grader.Number("timeScale", "how much faster time runs in the grader (default 10)", 1, 100),
			integer("workingSetMB", "the memory the app really uses; a container limit below it is OOM-killed (the grader caps containers at 1 GiB)", 1, 1024),
			grader.Map("images", "image repository → the lab program it runs",
				text("", "").Only("the app runs the api-worker lab and sidecars the pause lab", appLab, "pause")),
			grader.Map("secretsManager", "the simulated Secrets Manager: ARN → value", text("", "")),
		},
		Answer: "an ECS task definition in JSON, as `aws ecs register-task-definition --cli-input-json` takes it",
		Lab: "The task's containers run in containers of the grading's own network: each image repository runs the lab program `images` maps it to " +
			"(`api-worker` for the app, `pause` for sidecars); a repository not in `images` cannot be pulled. The app listens on 8080 and serves its health at /healthz, " +
			"so `app.port` and `health.path` cannot change. Time runs `timeScale` times faster (start-up, drain, health-check timings, stop timeout). " +
			"Each container gets at most 1 GiB and one CPU, so `workingSetMB` stops at 1024. `command` and `entryPoint` are ignored: the lab runs its own program. " +
			"Secrets come from the simulated `secretsManager`.",
		Checks: checks,
		Labs:   []string{appLab},
	}
}

// CheckSpec implements grader.SpecChecker with the checks the kind makes
// before grading.
func (Kind) CheckSpec(spec grader.Spec) []grader.SpecProblem {
	var sc Scenario
	if err := spec.DecodeScenario(&sc); err != nil {
		return []grader.SpecProblem{{Path: []string{"scenario"}, Message: "the scenario cannot be read: " + err.Error()}}
	}
	if err := sc.validate(); err != nil {
		return []grader.SpecProblem{{Path: []string{"scenario"}, Message: err.Error()}}
	}
	if lab := sc.Images[sc.App.Repository]; lab != appLab {
		return []grader.SpecProblem{{Path: []string{"scenario", "images", sc.App.Repository},
			Message: "the app repository must run the " + appLab + " lab, not " + lab + ": the run checks talk to it"}}
	}
	if sc.Size.MinCPU > sc.Size.MaxCPU && sc.Size.MaxCPU > 0 || sc.Size.MinMemory > sc.Size.MaxMemory && sc.Size.MaxMemory > 0 {
		return []grader.SpecProblem{{Path: []string{"scenario", "size"}, Message: "scenario.size has a minimum above its maximum, so no task size fits"}}
	}
	return nil
}
