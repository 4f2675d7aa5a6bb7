package main

import (
	"coldstart/content"
	"coldstart/grader"
	"coldstart/grader/kinds"
	"coldstart/server/grading"
)

// kindChecker lets the course loader check every exercise against the
// grader's kinds (content and grader do not know each other; cmd joins
// them), so that an exercise its kind cannot grade is an author's error at
// load time, in serve, live reload and check alike.
type kindChecker struct{ engine *grader.Engine }

// courseKinds checks exercises against every kind this program grades. It
// needs no container engine: the checks read the front matter only.
func courseKinds() content.Option {
	return content.WithKinds(kindChecker{engine: grader.NewEngine(nil, nil, kinds.All()...)})
}

func (k kindChecker) KindProblems(ex *content.Exercise) []content.KindProblem {
	fails := make([]string, len(ex.Wrong))
	for i, w := range ex.Wrong {
		fails[i] = w.Fails
	}
	var out []content.KindProblem
	for _, p := range k.engine.CheckSpec(grading.SpecOf(ex), fails) {
		out = append(out, content.KindProblem{Path: p.Path, Message: p.Message})
	}
	return out
}
