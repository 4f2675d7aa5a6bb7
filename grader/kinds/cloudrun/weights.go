package cloudrun

import "coldstart/grader"

// Scoring implements grader.Scorer. The scenario is about a service that
// meets its latency SLO under the spike within its budget: p99 weighs most
// and is core, and the budget counts only when the SLO is met (a service
// that cannot serve its traffic is cheap). The service form, the image and
// the size the starter already gives are required but earn nothing, and a
// setting left out (no containerConcurrency, no scale annotations, no
// timeout) earns nothing for the rule that judges it.
func (Kind) Scoring(s grader.Spec) grader.Scoring {
	if _, ok := s.Scenario["canary"]; ok {
		return canaryScoring()
	}
	const (
		spec        = "/spec/template/spec/"
		annotations = "/spec/template/metadata/annotations"
	)
	return grader.Scoring{
		Weights: map[string]float64{
			"cloudrun.schema":    0,
			"cloudrun.service":   0,
			"cloudrun.resources": 0,
			// The container contract and annotation spelling are form the
			// starter already meets.
			"cloudrun.contract":    0,
			"cloudrun.annotations": 0,
			"run.p99":              3,
			"run.budget":           2,
		},
		Subjects: map[string][]string{
			"cloudrun.concurrency":       {spec + "containerConcurrency"},
			"cloudrun.cpu-concurrency":   {spec + "containerConcurrency"},
			"cloudrun.timeout":           {spec + "timeoutSeconds"},
			"cloudrun.scale-annotations": {annotations, "/metadata/annotations"},
			"cloudrun.scale":             {annotations},
		},
		Requires: map[string][]string{
			"run.budget": {"run.p99"},
		},
		Core: []string{"run.p99"},
	}
}

// canaryScoring: the split weighs most and is core; the tag and the rest
// count too. The service and its template are given in the starter, and the
// traffic rules are form every accepted answer meets, so the static checks
// earn nothing: the starter, which still sends everything to the current
// revision, scores 0.
func canaryScoring() grader.Scoring {
	w := map[string]float64{"run.split": 3, "run.rest": 2, "run.tag": 2}
	for _, c := range staticChecks {
		w[c.ID] = 0
	}
	for _, c := range canaryChecks {
		w[c.ID] = 0
	}
	return grader.Scoring{Weights: w, Core: []string{"run.split"}}
}
