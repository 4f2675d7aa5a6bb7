package iam

import "coldstart/grader"

// Scoring implements grader.Scorer. The scenario is about two roles that
// each allow what their side needs: a least-privilege check that passes
// because a role allows nothing at all earns nothing until that role allows
// what it must, and the task starting with the roles is core.
func (Kind) Scoring(grader.Spec) grader.Scoring {
	return grader.Scoring{
		Weights: map[string]float64{
			checkTrust:          2,
			checkExecutionAllow: 2,
			checkExecutionLeast: 2,
			checkTaskAllow:      2,
			checkTaskLeast:      2,
		},
		Subjects: map[string][]string{
			checkTrust: {"/executionRole/trustPolicy/Statement", "/taskRole/trustPolicy/Statement"},
		},
		Requires: map[string][]string{
			checkExecutionLeast: {checkExecutionAllow},
			checkTaskLeast:      {checkTaskAllow},
			checkRunDenied:      {checkRunRead},
		},
		Core: []string{checkExecutionAllow, checkTaskAllow, checkRunStart},
	}
}
