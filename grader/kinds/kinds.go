// Package kinds lists every exercise kind the grader knows.
package kinds

import (
	"coldstart/grader"
	"coldstart/grader/kinds/autoscaling"
	"coldstart/grader/kinds/cloudrun"
	"coldstart/grader/kinds/cost"
	"coldstart/grader/kinds/iam"
	"coldstart/grader/kinds/loadbalancer"
	"coldstart/grader/kinds/subnet"
	"coldstart/grader/kinds/table"
	"coldstart/grader/kinds/taskdef"
)

// All returns one of each exercise kind.
func All() []grader.Kind {
	return []grader.Kind{
		taskdef.Kind{},
		subnet.Kind{},
		table.Kind{},
		iam.Kind{},
		cloudrun.Kind{},
		cost.Kind{},
		loadbalancer.Kind{},
		autoscaling.Kind{},
	}
}
