package cloudrun_test

import (
	"slices"
	"testing"

	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/cloudrun"
)

// The starter's score of 0 is measured in containers by the check command's
// tests; here the declaration itself.
func TestScoringFollowsTheScenario(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/cloud-run-concurrency")
	s := cloudrun.Kind{}.Scoring(ex.Spec)
	if !slices.Equal(s.Core, []string{"run.p99"}) {
		t.Errorf("core checks %v, want run.p99", s.Core)
	}
	if s.Weights["run.p99"] != 3 || s.Weights["run.budget"] != 2 || s.Weights["cloudrun.service"] != 0 {
		t.Errorf("weights %v", s.Weights)
	}
	if !slices.Equal(s.Requires["run.budget"], []string{"run.p99"}) {
		t.Errorf("run.budget rests on %v, want run.p99", s.Requires["run.budget"])
	}
}
