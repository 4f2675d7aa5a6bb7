package subnet

import "coldstart/grader"

// Scoring implements grader.Scorer. The scenario is about subnets that hold
// every task at the deploy peak: capacity and the rolling deploy weigh
// double and are core; "the smallest that fits" means nothing for subnets
// that do not fit, and "no overlap" nothing for a single subnet.
func (Kind) Scoring(grader.Spec) grader.Scoring {
	return grader.Scoring{
		Weights: map[string]float64{
			CheckCapacity: 2,
			CheckDeploy:   2,
		},
		Subjects: map[string][]string{
			CheckOverlap: {"/subnets/1"},
		},
		Requires: map[string][]string{
			CheckSmallest: {CheckCapacity},
		},
		Core: []string{CheckCapacity, CheckDeploy},
	}
}
