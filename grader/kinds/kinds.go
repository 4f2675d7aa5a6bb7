// Package kinds lists every exercise kind the grader knows.
package kinds

import "coldstart/grader"

// All returns one of each exercise kind.
func All() []grader.Kind {
	return []grader.Kind{}
}
