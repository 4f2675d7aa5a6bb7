package grader_test

import (
	"strings"
	"testing"
	"time"

	"coldstart/grader"
)

// schemaKind is fakeKind with a declared schema.
type schemaKind struct{ fakeKind }

func (schemaKind) Schema() grader.Schema {
	return grader.Schema{
		Scenario: []grader.Field{
			grader.Object("app", "the app",
				grader.Text("name", "its name").Need(),
				grader.Integer("port", "its port", 1, 65535).Only("the lab listens on 8080", "8080")),
			grader.Duration("drain", "drain time", time.Second, 2*time.Minute),
			{Name: "fast", Type: grader.TypeBoolean},
			grader.List("phases", "traffic", grader.Object("", "", grader.Number("rps", "rate", 0, 500).Need())),
			grader.Map("images", "repository → lab", grader.Text("", "").Only("only these labs exist", "api-worker", "pause")),
		},
		Params: []grader.Field{grader.Integer("count", "tasks", 1, 20)},
		Checks: []string{"fake.size", "run.healthy", "table.*.*"},
		Labs:   []string{"api-worker"},
	}
}

func TestCheckSpec(t *testing.T) {
	e := grader.NewEngine(nil, nil, schemaKind{})
	good := map[string]any{"app": map[string]any{"name": "app", "port": 8080}, "drain": "20s", "fast": true,
		"phases": []any{map[string]any{"rps": 5}}, "images": map[string]any{"repo": "pause"}}
	tests := []struct {
		name     string
		spec     grader.Spec
		fails    []string
		wantPath string
		want     string
	}{
		{"valid", grader.Spec{Kind: "fake", Scenario: good, Params: map[string]any{"count": 3}, Lab: "api-worker"}, []string{"run.healthy", "table.a.b"}, "", ""},
		{"unknown kind", grader.Spec{Kind: "fak"}, nil, "kind", `unknown kind "fak": did you mean "fake"? (the kinds are fake)`},
		{"misspelt key", grader.Spec{Kind: "fake", Scenario: map[string]any{"drian": "1s"}}, nil, "scenario.drian", `unknown key "drian" in scenario: did you mean "drain"?`},
		{"unknown key, nothing close", grader.Spec{Kind: "fake", Scenario: map[string]any{"colour": "red"}}, nil, "scenario.colour", `unknown key "colour" in scenario (known keys: app, drain, fast, phases, images)`},
		{"nested key", grader.Spec{Kind: "fake", Scenario: map[string]any{"app": map[string]any{"name": "a", "prot": 1}}}, nil, "scenario.app.prot", `did you mean "port"?`},
		{"missing required key", grader.Spec{Kind: "fake", Scenario: map[string]any{"app": map[string]any{}}}, nil, "scenario.app", "scenario.app needs name: (its name)"},
		{"wrong type", grader.Spec{Kind: "fake", Scenario: map[string]any{"fast": "yes"}}, nil, "scenario.fast", `scenario.fast must be true or false, not the text "yes"`},
		{"not a whole number", grader.Spec{Kind: "fake", Params: map[string]any{"count": 2.5}}, nil, "params.count", "params.count must be a whole number, not 2.5"},
		{"out of range", grader.Spec{Kind: "fake", Params: map[string]any{"count": 50}}, nil, "params.count", "params.count must be between 1 and 20, not 50"},
		{"duration out of range", grader.Spec{Kind: "fake", Scenario: map[string]any{"drain": "5m"}}, nil, "scenario.drain", "scenario.drain must be between 1 and 120, not 5m0s"},
		{"not a duration", grader.Spec{Kind: "fake", Scenario: map[string]any{"drain": "soon"}}, nil, "scenario.drain", `must be a duration such as 10s, not the text "soon"`},
		{"a value the lab cannot honour", grader.Spec{Kind: "fake", Scenario: map[string]any{"app": map[string]any{"name": "a", "port": 9090}}}, nil, "scenario.app.port", "scenario.app.port is 9090, but it must be 8080: the lab listens on 8080"},
		{"list item", grader.Spec{Kind: "fake", Scenario: map[string]any{"phases": []any{map[string]any{"rps": 5}, map[string]any{"rps": -1}}}}, nil, "scenario.phases.1.rps", "scenario.phases.1.rps must be between 0 and 500, not -1"},
		{"map value", grader.Spec{Kind: "fake", Scenario: map[string]any{"images": map[string]any{"r": "nginx"}}}, nil, "scenario.images.r", `scenario.images.r is "nginx", but it must be api-worker or pause`},
		{"a lab the kind does not run", grader.Spec{Kind: "fake", Lab: "aws-sim"}, nil, "lab", `the fake kind runs the lab api-worker, not "aws-sim"`},
		{"a check the kind does not have", grader.Spec{Kind: "fake"}, []string{"run.healthy", "run.helthy"}, "wrong.1.fails", `the fake kind has no check "run.helthy": did you mean "run.healthy"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := e.CheckSpec(tt.spec, tt.fails)
			if tt.want == "" {
				if len(ps) != 0 {
					t.Fatalf("problems %+v, want none", ps)
				}
				return
			}
			if len(ps) != 1 {
				t.Fatalf("problems %+v, want one", ps)
			}
			if got := strings.Join(ps[0].Path, "."); got != tt.wantPath || !strings.Contains(ps[0].Message, tt.want) {
				t.Errorf("got %s: %q\nwant %s: %q", got, ps[0].Message, tt.wantPath, tt.want)
			}
		})
	}
}
