package subnet_test

import (
	"slices"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/subnet"
)

func TestScoringFollowsTheScenario(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/subnet-sizing")
	s := subnet.Kind{}.Scoring(ex.Spec)
	if !slices.Equal(s.Core, []string{subnet.CheckCapacity, subnet.CheckDeploy}) {
		t.Errorf("core checks %v", s.Core)
	}
	if s.Weights[subnet.CheckCapacity] != 2 || s.Weights[subnet.CheckDeploy] != 2 {
		t.Errorf("capacity and deploy weigh %v and %v, want 2 each", s.Weights[subnet.CheckCapacity], s.Weights[subnet.CheckDeploy])
	}
	res := gradertest.GradeStatic(t, subnet.Kind{}, ex.Spec, ex.Starter)
	if res.Status != grader.StatusFail || res.Score != 0 {
		t.Errorf("the starter is %s with score %v, want fail with 0", res.Status, res.Score)
	}
}
