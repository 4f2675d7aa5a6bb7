package table_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/table"
)

const exerciseDir = "../../../exercises/serverless-criteria"

func grade(t testing.TB, ex gradertest.Exercise, body string) *grader.Result {
	t.Helper()
	engine := grader.NewEngine(nil, nil, table.Kind{})
	return engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: []byte(body)})
}

func TestExerciseAnswers(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	t.Run("Reference", func(t *testing.T) {
		res := grade(t, ex, string(ex.Solution))
		if res.Status != grader.StatusPass || res.Score != 1 || len(res.Checks) != 12 {
			t.Fatalf("status %s score %v, %d checks: %+v", res.Status, res.Score, len(res.Checks), res.Checks)
		}
		if res.Timings.RunMs != 0 {
			t.Errorf("a table grading ran containers for %d ms", res.Timings.RunMs)
		}
	})
	t.Run("Starter", func(t *testing.T) {
		res := grade(t, ex, string(ex.Starter))
		if res.Status != grader.StatusFail || res.Score != 0 || !res.Gradable {
			t.Fatalf("status %s score %v", res.Status, res.Score)
		}
		for _, c := range res.Checks {
			if c.Status != grader.CheckFail || !strings.HasPrefix(c.Message, "no answer; the course's answer is ") {
				t.Errorf("%s: %s %q", c.ID, c.Status, c.Message)
			}
		}
	})
	for _, w := range ex.Wrong {
		t.Run(w.File, func(t *testing.T) {
			res := grade(t, ex, string(w.Body))
			c := res.Check(w.Fails)
			if res.Status != grader.StatusFail || c == nil || c.Status != grader.CheckFail {
				t.Fatalf("status %s, check %s: %+v", res.Status, w.Fails, c)
			}
			if res.Score <= 0 || res.Score >= 1 {
				t.Errorf("score %v: want partial credit for the right cells", res.Score)
			}
			t.Logf("%s (score %.3f): %s", w.Fails, res.Score, c.Message)
		})
	}
}

// cells builds an answer from the reference with some cells changed; a nil
// value removes the cell.
func cells(t testing.TB, ex gradertest.Exercise, changes map[string]any) string {
	t.Helper()
	var a map[string]map[string]map[string]any
	if err := json.Unmarshal(ex.Solution, &a); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		row, col, _ := strings.Cut(k, ".")
		if a["cells"][row] == nil {
			a["cells"][row] = map[string]any{}
		}
		if v == nil {
			delete(a["cells"][row], col)
		} else {
			a["cells"][row][col] = v
		}
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// TestCells scores a grid of 9 criteria worth 1 point and 3 conclusions
// (the serverless column, weight 2) worth 2: 15 points.
func TestCells(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	tests := []struct {
		name    string
		changes map[string]any
		check   string
		status  grader.CheckStatus
		field   string
		msg     string
		score   float64
	}{
		{"Wrong", map[string]any{"aci.payPerUse": "yes"}, "table.aci.payPerUse", grader.CheckFail, "/cells/aci/payPerUse",
			"you answered yes; the answer is no: You pay for the CPU and memory you allocated", 0.933},
		{"Missing", map[string]any{"cloudrun.scaling": nil}, "table.cloudrun.scaling", grader.CheckFail, "/cells/cloudrun/scaling",
			"no answer; the course's answer is yes: Cloud Run adds and removes instances", 0.933},
		{"Null", map[string]any{"cloudrun.scaling": json.RawMessage("null")}, "table.cloudrun.scaling", grader.CheckFail, "/cells/cloudrun/scaling", "no answer", 0.933},
		{"AlternativeAccepted", map[string]any{"fargate.noInfra": "yes"}, "table.fargate.noInfra", grader.CheckPass, "/cells/fargate/noInfra",
			"yes is accepted; the course's answer is partly", 1},
		{"OtherAlternativeAccepted", map[string]any{"fargate.scaling": "no"}, "table.fargate.scaling", grader.CheckPass, "/cells/fargate/scaling",
			"no is accepted; the course's answer is partly", 1},
		{"CaseAndSpaces", map[string]any{"cloudrun.serverless": "  YES "}, "table.cloudrun.serverless", grader.CheckPass, "/cells/cloudrun/serverless", "", 1},
		{"UnknownOption", map[string]any{"aci.noInfra": "maybe"}, "table.aci.noInfra", grader.CheckFail, "/cells/aci/noInfra",
			`"maybe" is not one of the choices (yes, partly, no)`, 0.933},
		{"OptionOfAnotherColumn", map[string]any{"aci.serverless": "partly"}, "table.aci.serverless", grader.CheckFail, "/cells/aci/serverless",
			`"partly" is not one of the choices (yes, no)`, 0.867},
		{"ShellCommandAsValue", map[string]any{"aci.noInfra": "$(rm -rf /)"}, "table.aci.noInfra", grader.CheckFail, "/cells/aci/noInfra", "is not one of the choices", 0.933},
		{"UnknownRow", map[string]any{"lambda.noInfra": "yes"}, table.CheckUnknown, grader.CheckFail, "/cells/lambda",
			`there is no row "lambda" (the rows are aci, fargate, cloudrun)`, 1},
		{"UnknownColumn", map[string]any{"fargate.cost": "no"}, table.CheckUnknown, grader.CheckFail, "/cells/fargate/cost",
			`row fargate has no column "cost" (the columns are noInfra, scaling, payPerUse, serverless)`, 1},
		{"KeyNeedingEscape", map[string]any{"a/b~c.x": "yes"}, table.CheckUnknown, grader.CheckFail, "/cells/a~1b~0c", `no row "a/b~c"`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := grade(t, ex, cells(t, ex, tt.changes))
			c := res.Check(tt.check)
			if c == nil {
				t.Fatalf("no check %s: %+v (reason %q)", tt.check, res.Checks, res.Reason)
			}
			if c.Status != tt.status || c.Field != tt.field || !strings.Contains(c.Message, tt.msg) {
				t.Errorf("got %s field %q message %q; want %s field %q message containing %q", c.Status, c.Field, c.Message, tt.status, tt.field, tt.msg)
			}
			if res.Score != tt.score {
				t.Errorf("score %v, want %v", res.Score, tt.score)
			}
		})
	}
}

func TestUnreadableSubmissions(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	tests := []struct{ name, body, reason string }{
		{"Malformed", "{\"cells\": {\n  \"aci\": {\"noInfra\": yes}\n}}", "line 2, column "},
		{"BooleanCell", `{"cells": {"aci": {"noInfra": true}}}`, "must be a string"},
		{"RowNotObject", `{"cells": {"aci": "yes"}}`, "must be an object"},
		{"UnknownField", `{"cells": {}, "score": 1}`, `unknown field "score"`},
		{"NoCells", `{}`, `needs a "cells" object`},
		{"Empty", ` `, "the answer is empty"},
		{"Trailing", `{"cells": {}} {"cells": {}}`, "unexpected text after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := grade(t, ex, tt.body)
			if res.Status != grader.StatusError || res.Gradable || !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("got %s gradable %v reason %q; want error with %q", res.Status, res.Gradable, res.Reason, tt.reason)
			}
		})
	}
}

func TestGridValidation(t *testing.T) {
	cell := map[string]any{"accept": []any{"yes"}, "why": "because"}
	base := func() map[string]any {
		return map[string]any{
			"options": []any{"yes", "no"},
			"rows":    []any{map[string]any{"id": "r", "title": "R"}},
			"columns": []any{map[string]any{"id": "c", "title": "C"}},
			"answers": map[string]any{"r": map[string]any{"c": cell}},
		}
	}
	tests := []struct {
		name   string
		change func(map[string]any)
		err    string
	}{
		{"Valid", func(map[string]any) {}, ""},
		{"NoRows", func(s map[string]any) { s["rows"] = []any{} }, "at least one row"},
		{"DuplicateRow", func(s map[string]any) {
			s["rows"] = []any{map[string]any{"id": "r"}, map[string]any{"id": "r"}}
		}, `row "r" appears twice`},
		{"MissingAnswer", func(s map[string]any) { s["answers"] = map[string]any{} }, "answers.r.c is missing"},
		{"AcceptNotAnOption", func(s map[string]any) {
			s["answers"] = map[string]any{"r": map[string]any{"c": map[string]any{"accept": []any{"partly"}, "why": "x"}}}
		}, `accepts "partly", which is not an option`},
		{"NoWhy", func(s map[string]any) {
			s["answers"] = map[string]any{"r": map[string]any{"c": map[string]any{"accept": []any{"yes"}}}}
		}, "needs accept and why"},
		{"StrayAnswer", func(s map[string]any) {
			s["answers"] = map[string]any{"r": map[string]any{"c": cell, "z": cell}}
		}, "answers.r.z names no cell"},
		{"NoOptions", func(s map[string]any) { delete(s, "options") }, `column "c" has no options`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.change(s)
			_, err := table.LoadGrid(grader.Spec{Scenario: s})
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("got %v, want %q", err, tt.err)
			}
		})
	}
}

// The exercise's grid is what the web page renders: check its shape.
func TestExerciseGrid(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	g, err := table.LoadGrid(ex.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(g.Options, ",") != "yes,partly,no" || len(g.Rows) != 3 || len(g.Columns) != 4 {
		t.Fatalf("grid %+v", g)
	}
	if opts := g.ColumnOptions(g.Columns[3]); strings.Join(opts, ",") != "yes,no" {
		t.Errorf("verdict column options %v", opts)
	}
}

func BenchmarkGrade(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	engine := grader.NewEngine(nil, nil, table.Kind{})
	body := []byte(cells(b, ex, map[string]any{"aci.payPerUse": "yes", "fargate.noInfra": "yes", "cloudrun.scaling": nil}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Body: body})
		if res.Status != grader.StatusFail {
			b.Fatalf("status %s", res.Status)
		}
	}
}
