package taskdef

import "coldstart/grader"

// Scoring implements grader.Scorer. The scenario is about a task that starts,
// becomes healthy, gets its secret through the right role and stops without
// dropping requests, so those checks weigh most and the task becoming healthy
// is core. The form that the starter already has (a family, named containers,
// known fields, an essential container) is required but earns nothing, and a
// rule that holds only because the answer leaves its subject empty (no image
// to pin, no port mapping to judge, no sidecar) earns nothing either.
func (Kind) Scoring(grader.Spec) grader.Scoring {
	return grader.Scoring{
		Weights: map[string]float64{
			"taskdef.schema":      0,
			"taskdef.family":      0,
			"taskdef.containers":  0,
			"taskdef.essential":   0,
			"fargate.unsupported": 0,
			"scenario.secret":     2,
			"scenario.roles":      2,
			"run.start":           2,
			"run.healthy":         3,
			"run.secret":          2,
			"run.graceful-stop":   2,
		},
		Subjects: map[string][]string{
			"taskdef.image-form":          {"/containerDefinitions/*/image"},
			"taskdef.image-tag":           {"/containerDefinitions/*/image"},
			"taskdef.network-mode":        {"/networkMode"},
			"taskdef.container-limits":    {"/containerDefinitions/*/cpu", "/containerDefinitions/*/memory", "/containerDefinitions/*/memoryReservation"},
			"taskdef.port-mappings":       {"/containerDefinitions/*/portMappings"},
			"taskdef.secret-refs":         {"/containerDefinitions/*/secrets"},
			"taskdef.log-config":          {"/containerDefinitions/*/logConfiguration/options"},
			"taskdef.health-check-ranges": {"/containerDefinitions/*/healthCheck"},
			"taskdef.depends-on":          {"/containerDefinitions/*/dependsOn"},
			"fargate.timeouts":            {"/containerDefinitions/*/startTimeout", "/containerDefinitions/*/stopTimeout"},
			"scenario.stop-timeout":       {"/containerDefinitions/*/stopTimeout"},
			// With one container there is no sidecar to judge.
			"scenario.sidecars": {"/containerDefinitions/1"},
		},
		Core: []string{"run.start", "run.healthy"},
	}
}
