package table_test

import (
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/table"
)

func TestScoringFollowsTheScenario(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/serverless-criteria")
	s := table.Kind{}.Scoring(ex.Spec)
	if s.Weights["table.*.serverless"] != 2 || s.Weights[table.CheckUnknown] != 0 {
		t.Errorf("weights %v, want the serverless column at 2 and table.unknown at 0", s.Weights)
	}
	tests := []struct {
		name  string
		body  []byte
		score float64
	}{
		{"the starter", ex.Starter, 0},
		{"the solution", ex.Solution, 1},
		// Nine criteria right (9 of 15 points), the three conclusions
		// left empty.
		{"criteria without conclusions", []byte(`{"cells": {
			"aci": {"noInfra": "yes", "scaling": "no", "payPerUse": "no"},
			"fargate": {"noInfra": "partly", "scaling": "partly", "payPerUse": "no"},
			"cloudrun": {"noInfra": "yes", "scaling": "yes", "payPerUse": "yes"}}}`), 0.6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := gradertest.GradeStatic(t, table.Kind{}, ex.Spec, tt.body)
			if res.Score != tt.score {
				t.Errorf("score %v, want %v", res.Score, tt.score)
			}
			if c := res.Check("table.aci.serverless"); c == nil || c.MaxPoints != 2 {
				t.Errorf("table.aci.serverless: %+v, want 2 points", c)
			}
			if res.Status == grader.StatusError {
				t.Errorf("not graded: %s", res.Reason)
			}
		})
	}
}
