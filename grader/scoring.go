package grader

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// CoreCap is the highest score an answer reaches while one of its kind's core
// checks has not passed: a task that never becomes healthy, or a service that
// misses its SLO, is at most half done however tidy the rest is.
const CoreCap = 0.5

// Scoring is how the checks of one kind earn points. A kind declares it (see
// Scorer) and the engine applies it to every grading, so every kind scores
// by the same rules:
//
//   - a check listed in Weights is worth that many points; weight 0 makes a
//     check a requirement that earns nothing, for the form of an answer that
//     the starter already has;
//   - a check that passes while every part of the answer it judges (its
//     Subjects) is absent or empty holds vacuously: it earns nothing and
//     counts for nothing;
//   - a check that passes while a check it Requires has not passed earns
//     nothing, but still counts: a budget met by a service that does not
//     serve its traffic is not met;
//   - while one of the Core checks has not passed, the score is at most
//     CoreCap.
//
// Check ids in every map and list may be patterns of path.Match, such as
// "table.*.serverless".
type Scoring struct {
	Weights  map[string]float64
	Subjects map[string][]string
	Requires map[string][]string
	Core     []string
}

// Scorer is implemented by kinds that declare how their checks score. A kind
// without it scores every check by the points it gave it.
type Scorer interface {
	Scoring(spec Spec) Scoring
}

// Score applies s to the checks of a grading of body and returns the score
// (the share of points earned, rounded to a thousandth) and, when the rules
// lowered it, a note saying why. Checks are updated in place.
func (s Scoring) Score(body []byte, checks []Check) (float64, string) {
	doc, parsed := parseAnswer(body)
	status := map[string]CheckStatus{}
	for _, c := range checks {
		status[c.ID] = c.Status
	}
	var vacuous, unmet []string
	for i := range checks {
		c := &checks[i]
		if w, ok := lookup(s.Weights, c.ID); ok {
			share := 0.0
			if c.MaxPoints > 0 {
				share = c.Points / c.MaxPoints
			}
			c.MaxPoints, c.Points = w, w*share
		}
		if c.Status != CheckPass || c.Points == 0 && c.MaxPoints == 0 {
			continue
		}
		if subj, ok := lookup(s.Subjects, c.ID); ok && parsed && allEmpty(doc, subj) {
			c.Points, c.MaxPoints = 0, 0
			c.Message = joinNote(c.Message, fmt.Sprintf("earns no points: it holds only because %s is absent or empty", strings.Join(subj, ", ")))
			vacuous = append(vacuous, c.ID)
			continue
		}
		if req, ok := lookup(s.Requires, c.ID); ok {
			if missing := notPassed(req, status); len(missing) > 0 {
				c.Points = 0
				c.Message = joinNote(c.Message, fmt.Sprintf("earns no points until %s passes", strings.Join(missing, " and ")))
				unmet = append(unmet, c.ID)
			}
		}
	}
	score := share(checks)
	var notes []string
	if missing := notPassed(s.Core, status); len(missing) > 0 && score > CoreCap {
		score = CoreCap
		notes = append(notes, fmt.Sprintf("capped at %d%% because %s did not pass", int(CoreCap*100), strings.Join(missing, ", ")))
	}
	if len(vacuous) > 0 {
		notes = append(notes, fmt.Sprintf("%s earned nothing: they hold only because the answer leaves something empty", strings.Join(vacuous, ", ")))
	}
	if len(unmet) > 0 {
		notes = append(notes, fmt.Sprintf("%s earned nothing until the checks they rest on pass", strings.Join(unmet, ", ")))
	}
	return score, strings.Join(notes, "; ")
}

// share is the share of points earned, rounded to a thousandth.
func share(checks []Check) float64 {
	var got, max float64
	for _, c := range checks {
		got += c.Points
		max += c.MaxPoints
	}
	if max <= 0 {
		return 0
	}
	return math.Round(got/max*1000) / 1000
}

// notPassed returns the checks among ids (patterns) that are recorded and
// have not passed. A pattern that matches no recorded check is ignored: the
// kind did not judge it in this grading.
func notPassed(ids []string, status map[string]CheckStatus) []string {
	var out []string
	for _, pat := range ids {
		for id, st := range status {
			if match(pat, id) && st != CheckPass {
				out = append(out, id)
			}
		}
	}
	return sortedUnique(out)
}

func lookup[V any](m map[string]V, id string) (V, bool) {
	if v, ok := m[id]; ok {
		return v, true
	}
	for pat, v := range m {
		if match(pat, id) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

func match(pattern, id string) bool {
	ok, err := path.Match(pattern, id)
	return err == nil && ok
}

func joinNote(msg, note string) string {
	if msg == "" {
		return note
	}
	return msg + " (" + note + ")"
}

// parseAnswer reads a JSON or YAML answer into plain values; YAML reads JSON
// too.
func parseAnswer(body []byte) (any, bool) {
	var doc any
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return nil, false
	}
	return doc, true
}

// allEmpty reports whether every value the pointers name in doc is absent or
// empty. A pointer is a JSON Pointer in which * stands for every item of a
// list or every key of an object.
func allEmpty(doc any, pointers []string) bool {
	for _, p := range pointers {
		for _, v := range resolve(doc, splitPointer(p)) {
			if !empty(v) {
				return false
			}
		}
	}
	return true
}

func splitPointer(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
	}
	return parts
}

// resolve returns the values at the path below v; absent ones are left out.
func resolve(v any, parts []string) []any {
	if len(parts) == 0 {
		return []any{v}
	}
	head, rest := parts[0], parts[1:]
	var out []any
	switch t := v.(type) {
	case map[string]any:
		if head == "*" {
			for _, child := range t {
				out = append(out, resolve(child, rest)...)
			}
		} else if child, ok := t[head]; ok {
			out = resolve(child, rest)
		}
	case []any:
		if head == "*" {
			for _, child := range t {
				out = append(out, resolve(child, rest)...)
			}
		} else {
			var i int
			if _, err := fmt.Sscanf(head, "%d", &i); err == nil && i >= 0 && i < len(t) {
				out = resolve(t[i], rest)
			}
		}
	}
	return out
}

// empty reports whether v says nothing: null, "", an empty list or object.
func empty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(t) == ""
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// applyScoring scores res by the rules its kind declares.
func applyScoring(k Kind, spec Spec, body []byte, res *Result) {
	sc, ok := k.(Scorer)
	if !ok || res.Status == StatusError {
		return
	}
	res.Score, res.ScoreNote = sc.Scoring(spec).Score(body, res.Checks)
}
