package grader

import (
	"fmt"
	"strconv"
	"strings"
)

// CheckSpec returns every problem of an exercise's front matter that its
// kind can see: an unknown kind, scenario and params keys the kind does not
// read or values it cannot honour, a lab it does not run, and known-wrong
// answers (fails[i] is the check the i-th must fail) naming a check it does
// not have. It runs nothing, so it is cheap enough for every course load.
func (e *Engine) CheckSpec(spec Spec, fails []string) []SpecProblem {
	k, ok := e.kinds[spec.Kind]
	if !ok {
		msg := fmt.Sprintf("unknown kind %q", spec.Kind)
		if s := Suggest(spec.Kind, e.Kinds()); s != "" {
			msg += fmt.Sprintf(": did you mean %q?", s)
		}
		msg += fmt.Sprintf(" (the kinds are %s)", strings.Join(e.Kinds(), ", "))
		return []SpecProblem{{Path: []string{"kind"}, Message: msg}}
	}
	sk, ok := k.(Schemer)
	if !ok {
		return nil
	}
	schema := sk.Schema()
	var out []SpecProblem
	out = append(out, validateBlock("scenario", schema.Scenario, spec.Scenario)...)
	if len(schema.Params) == 0 && len(spec.Params) > 0 {
		out = append(out, SpecProblem{Path: []string{"params"}, Message: fmt.Sprintf("the %s kind draws no per-student variants, so it reads no params", spec.Kind)})
	} else {
		out = append(out, validateBlock("params", schema.Params, spec.Params)...)
	}
	if spec.Lab != "" && !contains(schema.Labs, spec.Lab) {
		msg := fmt.Sprintf("the %s kind runs no lab", spec.Kind)
		if len(schema.Labs) > 0 {
			msg = fmt.Sprintf("the %s kind runs the lab %s, not %q", spec.Kind, orList(schema.Labs), spec.Lab)
		}
		out = append(out, SpecProblem{Path: []string{"lab"}, Message: msg})
	}
	for i, id := range fails {
		if !matchesAny(schema.Checks, id) {
			msg := fmt.Sprintf("the %s kind has no check %q", spec.Kind, id)
			if s := Suggest(id, literal(schema.Checks)); s != "" {
				msg += fmt.Sprintf(": did you mean %q?", s)
			}
			out = append(out, SpecProblem{Path: []string{"wrong", strconv.Itoa(i), "fails"}, Message: msg})
		}
	}
	if len(out) == 0 {
		if sc, ok := k.(SpecChecker); ok {
			out = sc.CheckSpec(spec)
		}
	}
	return out
}

// Schema returns the front matter a kind reads, if it declares it.
func (e *Engine) Schema(kind string) (Schema, bool) {
	sk, ok := e.kinds[kind].(Schemer)
	if !ok {
		return Schema{}, false
	}
	return sk.Schema(), true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func matchesAny(patterns []string, id string) bool {
	for _, p := range patterns {
		if match(p, id) {
			return true
		}
	}
	return false
}

// literal returns the patterns that are plain ids.
func literal(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if !strings.ContainsAny(p, "*?[") {
			out = append(out, p)
		}
	}
	return out
}
