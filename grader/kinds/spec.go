package kinds

import (
	"coldstart/content"
	"coldstart/grader"
)

// Spec returns what the grader needs to know of a course exercise.
func Spec(ex *content.Exercise) grader.Spec {
	return grader.Spec{ID: ex.ID, Kind: ex.Kind, Lab: ex.Lab, Params: ex.Params, Scenario: ex.Scenario, TimeLimit: ex.TimeLimit}
}
