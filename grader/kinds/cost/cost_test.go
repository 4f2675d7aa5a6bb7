package cost_test

import (
	"context"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/cost"
)

const exerciseDir = "../../../exercises/cost-at-utilisation"

func grade(t testing.TB, spec grader.Spec, body string) *grader.Result {
	t.Helper()
	engine := grader.NewEngine(nil, nil, cost.Kind{})
	return engine.Grade(context.Background(), grader.Request{Spec: spec, Body: []byte(body)})
}

func TestExerciseAnswers(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	t.Run("Reference", func(t *testing.T) {
		res := grade(t, ex.Spec, string(ex.Solution))
		if res.Status != grader.StatusPass || res.Score != 1 || len(res.Checks) != 14 {
			t.Fatalf("status %s score %v, %d checks: %+v", res.Status, res.Score, len(res.Checks), res.Checks)
		}
		if res.Timings.RunMs != 0 {
			t.Errorf("a cost grading ran containers for %d ms", res.Timings.RunMs)
		}
	})
	t.Run("Starter", func(t *testing.T) {
		res := grade(t, ex.Spec, string(ex.Starter))
		if res.Status != grader.StatusFail || res.Score != 0 || !res.Gradable {
			t.Fatalf("status %s score %v", res.Status, res.Score)
		}
		for _, c := range res.Checks {
			if c.Status != grader.CheckFail || !strings.HasPrefix(c.Message, "no answer; ") {
				t.Errorf("%s: %s %q", c.ID, c.Status, c.Message)
			}
		}
	})
	for _, w := range ex.Wrong {
		t.Run(w.File, func(t *testing.T) {
			res := grade(t, ex.Spec, string(w.Body))
			c := res.Check(w.Fails)
			if res.Status != grader.StatusFail || c == nil || c.Status != grader.CheckFail {
				t.Fatalf("status %s, check %s: %+v", res.Status, w.Fails, c)
			}
			// Only the stated mistake fails (a verdict that follows from a
			// wrong line, and the total that adds it, may fail with it).
			for _, other := range res.Checks {
				if other.Status == grader.CheckFail && other.ID != w.Fails && !strings.HasPrefix(other.ID, "cost.total.") &&
					other.ID != cost.CheckCheaper && !sameMistake(w.Fails, other.ID) {
					t.Errorf("%s also fails: %s", w.File, other.Message)
				}
			}
		})
	}
}

// sameMistake pairs the lines one misreading spoils together: vCPU and
// memory are billed for the same seconds.
func sameMistake(a, b string) bool {
	pair := func(x string) string {
		x = strings.TrimSuffix(strings.TrimSuffix(x, "-vcpu"), "-memory")
		return x
	}
	return pair(a) == pair(b)
}

// TestArithmeticIsWrittenOut checks that each line's message shows every
// factor, the free allowance, the price with its source and date, and the
// result, whether the line is right or wrong.
func TestArithmeticIsWrittenOut(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	res := grade(t, ex.Spec, string(ex.Solution))
	want := map[string][]string{
		cost.LineID("fargate-vcpu"): {"(2 tasks × 1 vCPU × 720 hours) + (1 extra task × 1 vCPU × 10 busy hours a day × 30 days) = 1,740",
			"1,740 × $0.04048 per vCPU-hour [AWS Fargate pricing", "read 2026-12-02]", "= $70.44"},
		cost.LineID("run-vcpu"):     {"= 3,542,400 − 180,000 free = 3,362,400", "× $0.000024 per vCPU-second", "= $80.70"},
		cost.LineID("run-requests"): {"30 million requests − 2 free = 28; 28 × $0.40 per million requests", "= $11.20"},
		cost.LineID("run-logs"):     {"20 GiB − 50 free = 0", "= $0.00"},
		cost.TotalID("fargate"):     {"$70.44 + $15.47 + $16.20 + $8.64 + $64.80 + $4.50 + $10.00 = $190.05"},
		cost.CheckCheaper:           {"ECS on Fargate $190.05 against Cloud Run $108.71"},
	}
	for id, parts := range want {
		c := res.Check(id)
		if c == nil {
			t.Fatalf("no check %s", id)
		}
		for _, p := range parts {
			if !strings.Contains(c.Message, p) {
				t.Errorf("%s: %q lacks %q", id, c.Message, p)
			}
		}
	}
	wrong := grade(t, ex.Spec, strings.Replace(string(ex.Solution), `"nat-hours":      {"quantity": 1440, "cost": 64.8}`, `"nat-hours":      {"quantity": 720, "cost": 32.4}`, 1))
	c := wrong.Check(cost.LineID("nat-hours"))
	if c == nil || c.Status != grader.CheckFail || c.Field != "/lines/nat-hours/quantity" ||
		!strings.Contains(c.Message, "the usage is 1,440, not 720: There is one NAT gateway per Availability Zone, so two of them, each billed every hour. The line") ||
		!strings.Contains(c.Message, "2 NAT gateways × 720 hours = 1,440; 1,440 × $0.045 per NAT-gateway-hour") {
		t.Fatalf("%+v", c)
	}
}

func TestCostOffByTheRate(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	body := strings.Replace(string(ex.Solution), `"alb-hours":      {"quantity": 720, "cost": 16.2}`, `"alb-hours":      {"quantity": 720, "cost": 18.0}`, 1)
	c := grade(t, ex.Spec, body).Check(cost.LineID("alb-hours"))
	if c == nil || c.Status != grader.CheckFail || c.Field != "/lines/alb-hours/cost" ||
		!strings.Contains(c.Message, "the usage is right, but 720 × $0.0225 is $16.20, not $18.00") {
		t.Fatalf("%+v", c)
	}
	// Rounding the intermediate figures is not a mistake.
	body = strings.Replace(string(ex.Solution), `"cost": 70.44}`, `"cost": 70.43}`, 1)
	if c := grade(t, ex.Spec, body).Check(cost.LineID("fargate-vcpu")); c == nil || c.Status != grader.CheckPass {
		t.Fatalf("a cent of rounding failed the line: %+v", c)
	}
}

func TestBadInput(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	cases := []struct {
		name, body, want string
	}{
		{"empty", "", "the answer is empty"},
		{"not JSON", "lines: {}", "malformed JSON"},
		{"unknown field", `{"lines": {}, "total": 3}`, `unknown field "total"`},
		{"quantity as text", `{"lines": {"nat-data": {"quantity": "100", "cost": 4.5}}}`, "must be a number"},
		{"no lines", `{"totals": {}}`, `needs a "lines" object`},
		{"negative total", `{"lines": {}, "totals": {"fargate": -1}}`, "positive number of dollars"},
		{"trailing text", `{"lines": {}} {}`, "unexpected text after the JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := grade(t, ex.Spec, tc.body)
			if res.Status != grader.StatusError || res.Gradable || len(res.Checks) != 1 || !strings.Contains(res.Checks[0].Message, tc.want) {
				t.Fatalf("status %s gradable %v: %+v", res.Status, res.Gradable, res.Checks)
			}
		})
	}
	res := grade(t, ex.Spec, `{"lines": {"nat-gateway": {"quantity": 1, "cost": 1}}, "totals": {"aws": 1}, "cheaper": "gcp"}`)
	u, v := res.Check(cost.CheckUnknown), res.Check(cost.CheckCheaper)
	if u == nil || !strings.Contains(u.Message, `there is no line "nat-gateway"`) || !strings.Contains(u.Message, `there is no platform "aws"`) {
		t.Fatalf("%+v", u)
	}
	if v == nil || !strings.Contains(v.Message, `"gcp" is not one of the platforms (fargate, cloudrun)`) {
		t.Fatalf("%+v", v)
	}
}

// TestSheetIsChecked makes sure a broken scenario is reported to its
// author, naming what is wrong, rather than graded.
func TestSheetIsChecked(t *testing.T) {
	price := map[string]any{"id": "p", "amount": 1.0, "per": "hour", "source": "a page", "date": "2026-12-02"}
	line := map[string]any{"id": "l", "title": "L", "group": "a", "price": "p", "why": "because",
		"terms": []any{[]any{map[string]any{"value": 2.0, "unit": "hours"}}}}
	line2 := map[string]any{"id": "m", "title": "M", "group": "b", "price": "p", "why": "because",
		"terms": []any{[]any{map[string]any{"value": 1.0, "unit": "hours"}}}}
	groups := []any{map[string]any{"id": "a", "title": "A"}, map[string]any{"id": "b", "title": "B"}}
	with := func(key string, v any) map[string]any {
		s := map[string]any{"prices": []any{price}, "groups": groups, "lines": []any{line, line2}, "cheaper": "b"}
		s[key] = v
		return s
	}
	undated := map[string]any{"id": "p", "amount": 1.0, "per": "hour", "source": "a page"}
	badLine := map[string]any{"id": "l", "title": "L", "group": "a", "price": "nope", "why": "x", "terms": []any{[]any{map[string]any{"value": 1.0, "unit": "h"}}}}
	cases := []struct {
		name     string
		scenario map[string]any
		want     string
	}{
		{"undated price", with("prices", []any{undated}), "needs a source and the date it was read"},
		{"unknown price", with("lines", []any{badLine, line2}), `names no price "nope"`},
		{"verdict contradicts arithmetic", with("cheaper", "a"), "cheaper is a, but by the sheet's own arithmetic b costs less"},
		{"empty", map[string]any{}, "needs prices, groups and lines"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cost.LoadSheet(grader.Spec{Scenario: tc.scenario})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := cost.LoadSheet(grader.Spec{Scenario: with("cheaper", "b")}); err != nil {
		t.Fatalf("a good sheet is refused: %v", err)
	}
}
