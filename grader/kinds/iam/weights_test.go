package iam_test

import (
	"slices"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/iam"
)

func TestScoringFollowsTheScenario(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/fargate-roles")
	s := iam.Kind{}.Scoring(ex.Spec)
	if !slices.Equal(s.Core, []string{"iam.execution-allows", "iam.task-allows", "iam.run-start"}) {
		t.Errorf("core checks %v", s.Core)
	}
	for least, allows := range map[string]string{"iam.execution-least-privilege": "iam.execution-allows", "iam.task-least-privilege": "iam.task-allows"} {
		if !slices.Contains(s.Requires[least], allows) {
			t.Errorf("%s does not rest on %s: %v", least, allows, s.Requires[least])
		}
	}
	for _, id := range []string{"iam.trust", "iam.execution-allows", "iam.execution-least-privilege", "iam.task-allows", "iam.task-least-privilege"} {
		if s.Weights[id] != 2 {
			t.Errorf("%s weighs %v, want 2", id, s.Weights[id])
		}
	}
	res := gradertest.GradeStatic(t, iam.Kind{}, ex.Spec, ex.Starter)
	if res.Status != grader.StatusFail || res.Score != 0 {
		t.Errorf("the starter is %s with score %v, want fail with 0", res.Status, res.Score)
	}
}
