package grading

import (
	"coldstart/content"
	"coldstart/grader"
)

// SpecOf is what the grader needs to know of a course exercise. It lives
// here, where the course and the grader meet, so that neither imports the
// other.
func SpecOf(ex *content.Exercise) grader.Spec {
	return grader.Spec{ID: ex.ID, Kind: ex.Kind, Lab: ex.Lab, Params: ex.Params, Scenario: ex.Scenario, TimeLimit: ex.TimeLimit}
}
