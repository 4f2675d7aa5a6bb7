package loadbalancer_test

import (
	"slices"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/loadbalancer"
)

func TestScoringFollowsTheScenario(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/lb-rolling-deploy")
	s := loadbalancer.Kind{}.Scoring(ex.Spec)
	if !slices.Equal(s.Core, []string{loadbalancer.CheckDeploy, loadbalancer.CheckRolledBack}) {
		t.Errorf("core checks %v", s.Core)
	}
	for id, want := range map[string]float64{loadbalancer.CheckService: 0, loadbalancer.CheckTimings: 0, loadbalancer.CheckDeploy: 2, loadbalancer.CheckNoFailed: 2, loadbalancer.CheckHealthy: 1} {
		if got, ok := s.Weights[id]; !ok || got != want {
			t.Errorf("%s weighs %v (declared %v), want %v", id, got, ok, want)
		}
	}
	if !slices.Contains(s.Requires[loadbalancer.CheckNoFailed], loadbalancer.CheckDeploy) {
		t.Errorf("%s does not rest on the deployment: %v", loadbalancer.CheckNoFailed, s.Requires)
	}
	res := gradertest.GradeStatic(t, loadbalancer.Kind{}, ex.Spec, ex.Starter)
	if res.Status != grader.StatusFail || res.Score != 0 {
		t.Errorf("the starter is %s with score %v, want fail with 0 (%s)", res.Status, res.Score, res.ScoreNote)
	}
}
