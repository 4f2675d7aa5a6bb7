package taskdef_test

import (
	"slices"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/taskdef"
)

func TestScoringFollowsTheScenario(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/fargate-task-definition")
	s := taskdef.Kind{}.Scoring(ex.Spec)
	if !slices.Equal(s.Core, []string{"run.start", "run.healthy"}) {
		t.Errorf("core checks %v, want run.start and run.healthy", s.Core)
	}
	for id, want := range map[string]float64{"run.healthy": 3, "run.start": 2, "run.secret": 2, "run.graceful-stop": 2, "scenario.roles": 2, "taskdef.schema": 0, "taskdef.family": 0} {
		if got, ok := s.Weights[id]; !ok || got != want {
			t.Errorf("weight of %s is %v (declared %v), want %v", id, got, ok, want)
		}
	}

	res := gradertest.GradeStatic(t, taskdef.Kind{}, ex.Spec, ex.Starter)
	if res.Status != grader.StatusFail || res.Score != 0 {
		t.Errorf("the starter is %s with score %v, want fail with 0 (note %q)", res.Status, res.Score, res.ScoreNote)
	}
	// "Images are pinned" holds on the starter only because its image is
	// empty: it passes, and earns and counts nothing.
	if c := res.Check("taskdef.image-tag"); c == nil || c.Status != grader.CheckPass || c.MaxPoints != 0 {
		t.Errorf("taskdef.image-tag on the starter: %+v, want a pass worth nothing", c)
	}
}
