package grader_test

import (
	"context"
	"strings"
	"testing"

	"coldstart/grader"
)

// scoredKind is fakeKind with a scoring declaration.
type scoredKind struct {
	fakeKind
	scoring grader.Scoring
}

func (k scoredKind) Scoring(grader.Spec) grader.Scoring { return k.scoring }

func skip(id string) grader.Check {
	return grader.Check{ID: id, Title: id, Status: grader.CheckSkip, MaxPoints: 1}
}

func TestScoring(t *testing.T) {
	tests := []struct {
		name      string
		scoring   grader.Scoring
		checks    []grader.Check
		body      string
		wantScore float64
		wantNote  string
		// points and maxPoints of each check after scoring, by id
		want map[string][2]float64
	}{
		{
			name:      "no declaration: the share of points",
			checks:    []grader.Check{pass("a"), fail("b"), pass("c"), fail("d")},
			body:      `{}`,
			wantScore: 0.5,
		},
		{
			name:      "weights replace the points a kind gave",
			scoring:   grader.Scoring{Weights: map[string]float64{"a": 3, "form": 0}},
			checks:    []grader.Check{pass("a"), fail("b"), pass("form")},
			body:      `{}`,
			wantScore: 0.75,
			want:      map[string][2]float64{"a": {3, 3}, "b": {0, 1}, "form": {0, 0}},
		},
		{
			name:      "a weight keeps a partial share",
			scoring:   grader.Scoring{Weights: map[string]float64{"a": 4}},
			checks:    []grader.Check{{ID: "a", Status: grader.CheckPass, Points: 1, MaxPoints: 2}},
			body:      `{}`,
			wantScore: 0.5,
			want:      map[string][2]float64{"a": {2, 4}},
		},
		{
			name:      "a pass whose subject is empty earns and counts nothing",
			scoring:   grader.Scoring{Subjects: map[string][]string{"tag": {"/containers/*/image"}}},
			checks:    []grader.Check{pass("tag"), fail("b")},
			body:      `{"containers": [{"image": ""}, {"name": "x"}]}`,
			wantScore: 0,
			wantNote:  "tag earned nothing",
			want:      map[string][2]float64{"tag": {0, 0}},
		},
		{
			name:      "a pass whose subject is given earns its points",
			scoring:   grader.Scoring{Subjects: map[string][]string{"tag": {"/containers/*/image"}}},
			checks:    []grader.Check{pass("tag"), fail("b")},
			body:      `{"containers": [{"image": ""}, {"image": "app:1.2"}]}`,
			wantScore: 0.5,
			want:      map[string][2]float64{"tag": {1, 1}},
		},
		{
			name:      "subjects read YAML answers too",
			scoring:   grader.Scoring{Subjects: map[string][]string{"cc": {"/spec/containerConcurrency"}}},
			checks:    []grader.Check{pass("cc"), pass("b")},
			body:      "spec:\n  containerConcurrency: 4\n",
			wantScore: 1,
			want:      map[string][2]float64{"cc": {1, 1}},
		},
		{
			name:      "an empty list, an empty object and null are empty",
			scoring:   grader.Scoring{Subjects: map[string][]string{"x": {"/a", "/b", "/c", "/d/0"}}},
			checks:    []grader.Check{pass("x"), pass("y")},
			body:      `{"a": [], "b": {}, "c": null, "d": []}`,
			wantScore: 1,
			wantNote:  "x earned nothing",
			want:      map[string][2]float64{"x": {0, 0}},
		},
		{
			name:      "a failed check is not judged for emptiness",
			scoring:   grader.Scoring{Subjects: map[string][]string{"tag": {"/image"}}},
			checks:    []grader.Check{fail("tag"), pass("b")},
			body:      `{}`,
			wantScore: 0.5,
			want:      map[string][2]float64{"tag": {0, 1}},
		},
		{
			name:      "a pass resting on a failed check earns nothing but still counts",
			scoring:   grader.Scoring{Requires: map[string][]string{"budget": {"slo"}}},
			checks:    []grader.Check{pass("budget"), fail("slo"), pass("form")},
			body:      `{}`,
			wantScore: 0.333,
			wantNote:  "budget earned nothing until the checks they rest on pass",
			want:      map[string][2]float64{"budget": {0, 1}},
		},
		{
			name:      "a core check not passed caps the score at half",
			scoring:   grader.Scoring{Core: []string{"run.healthy"}},
			checks:    []grader.Check{pass("a"), pass("b"), pass("c"), skip("run.healthy")},
			body:      `{}`,
			wantScore: 0.5,
			wantNote:  "capped at 50% because run.healthy did not pass",
		},
		{
			name:      "a score under the cap stays",
			scoring:   grader.Scoring{Core: []string{"run.healthy"}},
			checks:    []grader.Check{pass("a"), fail("b"), fail("c"), fail("run.healthy")},
			body:      `{}`,
			wantScore: 0.25,
		},
		{
			name:      "patterns name many checks",
			scoring:   grader.Scoring{Weights: map[string]float64{"table.*.serverless": 3}, Core: []string{"table.*.serverless"}},
			checks:    []grader.Check{pass("table.a.x"), pass("table.a.serverless"), fail("table.b.serverless")},
			body:      `{}`,
			wantScore: 0.5,
			wantNote:  "table.b.serverless did not pass",
			want:      map[string][2]float64{"table.a.serverless": {3, 3}, "table.b.serverless": {0, 3}},
		},
		{
			name:      "an answer that is not JSON or YAML is never judged empty",
			scoring:   grader.Scoring{Subjects: map[string][]string{"a": {"/x"}}},
			checks:    []grader.Check{pass("a")},
			body:      "{",
			wantScore: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind := scoredKind{fakeKind: fakeKind{static: tt.checks}, scoring: tt.scoring}
			e := grader.NewEngine(nil, nil, kind)
			res := e.Grade(context.Background(), grader.Request{Spec: grader.Spec{ID: "x", Kind: "fake"}, Body: []byte(tt.body)})
			if res.Score != tt.wantScore {
				t.Errorf("score %v, want %v (note %q)", res.Score, tt.wantScore, res.ScoreNote)
			}
			if !strings.Contains(res.ScoreNote, tt.wantNote) || (tt.wantNote == "" && res.ScoreNote != "") {
				t.Errorf("note %q, want %q", res.ScoreNote, tt.wantNote)
			}
			for id, pm := range tt.want {
				c := res.Check(id)
				if c == nil {
					t.Fatalf("no check %s", id)
				}
				if c.Points != pm[0] || c.MaxPoints != pm[1] {
					t.Errorf("%s: %v of %v points, want %v of %v", id, c.Points, c.MaxPoints, pm[0], pm[1])
				}
			}
			// The verdict is the checks' own: scoring never turns a pass
			// into a fail or back.
			want := grader.StatusPass
			for _, c := range tt.checks {
				if c.Status == grader.CheckFail {
					want = grader.StatusFail
				}
			}
			if res.Status != want {
				t.Errorf("status %s, want %s", res.Status, want)
			}
		})
	}
}
