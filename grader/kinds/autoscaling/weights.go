package autoscaling

import "coldstart/grader"

// Scoring implements grader.Scorer. The exercise is about how the service
// meets a day of traffic, so the run checks weigh everything: the latency
// objective 3 points and the budget 2. The static checks are the APIs'
// rules, which the starter already meets: they must pass but earn
// nothing. The budget counts only once the latency objective is met, as a
// service that cannot keep up is always cheap; the latency objective is
// core.
func (Kind) Scoring(grader.Spec) grader.Scoring {
	return grader.Scoring{
		Weights: map[string]float64{
			CheckSchema: 0, CheckTarget: 0, CheckPolicy: 0, CheckMetric: 0, CheckTargetValue: 0, CheckCooldowns: 0,
			CheckLatency: 3, CheckTaskSeconds: 2,
		},
		Requires: map[string][]string{CheckTaskSeconds: {CheckLatency}},
		Core:     []string{CheckLatency},
	}
}
