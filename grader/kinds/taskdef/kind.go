// Package taskdef grades ECS task definitions (the RegisterTaskDefinition
// JSON shape) for Fargate: a strict parse, the platform's registration rules,
// the exercise's requirements, and then a run of the task in containers on
// the local Docker engine, with time compressed.
package taskdef

import (
	"context"
	"fmt"
	"strings"

	"coldstart/grader"
)

// Kind is the "taskdef" grader kind.
type Kind struct{}

// Name implements grader.Kind.
func (Kind) Name() string { return "taskdef" }

var _ grader.Kind = Kind{}

// Static is the outcome of the static phase.
type Static struct {
	Task     *TaskDefinition
	Scenario *Scenario
	Checks   []grader.Check
	// Registrable is false when ECS would refuse the task definition.
	Registrable bool
}

// CheckStatic parses the submission and runs every static check. An
// *grader.InputError means the submission is not JSON at all; any other
// error is a broken exercise.
func CheckStatic(spec grader.Spec, body []byte) (*Static, error) {
	var sc Scenario
	if err := spec.DecodeScenario(&sc); err != nil {
		return nil, fmt.Errorf("exercise %s: scenario: %w", spec.ID, err)
	}
	if err := sc.validate(); err != nil {
		return nil, fmt.Errorf("exercise %s: %w", spec.ID, err)
	}
	td, probs, err := Parse(body)
	if err != nil {
		return nil, err
	}
	resolveRoles(td, &sc)
	st := &Static{Task: td, Scenario: &sc, Registrable: true}
	schema := grader.Check{ID: "taskdef.schema", Title: "Every field is one ECS knows, with the right type", Phase: grader.PhaseStatic, MaxPoints: 1}
	if len(probs) == 0 {
		schema.Status, schema.Points = grader.CheckPass, 1
	} else {
		st.Registrable = false
		fs := make([]finding, len(probs))
		for i, p := range probs {
			fs[i] = finding{field: p.Field, message: p.Message}
		}
		fail(&schema, fs)
		schema.Hint = "ECS refuses the whole request when one field is unknown or has the wrong type; field names are case-sensitive."
	}
	st.Checks = append(st.Checks, schema)
	for _, r := range append(append([]rule(nil), platformRules...), scenarioRules(&sc)...) {
		c := grader.Check{ID: r.id, Title: r.title, Phase: grader.PhaseStatic, MaxPoints: 1}
		found, skip := r.check(td)
		switch {
		case len(found) > 0:
			fail(&c, found)
			if r.registration {
				st.Registrable = false
			}
		case skip != "":
			c.Status, c.Message = grader.CheckSkip, skip
		default:
			c.Status, c.Points = grader.CheckPass, 1
		}
		st.Checks = append(st.Checks, c)
	}
	return st, nil
}

// fail fills a failed check from its findings: the first one points at the
// field; the message lists a few.
func fail(c *grader.Check, found []finding) {
	c.Status, c.Points = grader.CheckFail, 0
	f := found[0]
	c.Field, c.Observed, c.Expected, c.Hint = f.field, f.observed, f.expected, f.hint
	msgs := make([]string, 0, 3)
	for i, f := range found {
		if i == 3 {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(found)-3))
			break
		}
		m := f.message
		if i > 0 && f.field != "" {
			m += " (at " + f.field + ")"
		}
		msgs = append(msgs, m)
	}
	c.Message = strings.Join(msgs, "; ")
}

// Grade implements grader.Kind.
func (k Kind) Plan(g *grader.Grading) (*grader.Plan, error) {
	st, err := CheckStatic(g.Spec, g.Body)
	if err != nil {
		return nil, err
	}
	p := &grader.Plan{Checks: st.Checks, RunChecks: runChecks,
		Run: func(ctx context.Context, g *grader.Grading) error { return runTask(ctx, g, st.Task, st.Scenario) }}
	if !st.Registrable {
		p.Refused = "ECS would refuse this task definition at registration (see the failed checks above), so it was not run"
	}
	return p, nil
}
