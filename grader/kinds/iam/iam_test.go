package iam_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/iam"
	"coldstart/grader/sandbox/sandboxtest"
)

const exerciseDir = "../../../exercises/fargate-roles"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func grade(t testing.TB, e *grader.Engine, spec grader.Spec, body []byte) *grader.Result {
	t.Helper()
	return e.Grade(context.Background(), grader.Request{Spec: spec, Body: body})
}

func describe(r *grader.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %s score %.3f reason %q\n", r.Status, r.Score, r.Reason)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "  %-32s %-5s %s %s\n", c.ID, c.Status, c.Field, c.Message)
	}
	return b.String()
}

// TestStaticVerdicts grades every answer with no container engine: the
// static checks alone must already give each known-wrong answer its
// failing check, and pass the reference.
func TestStaticVerdicts(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	e := grader.NewEngine(nil, quiet, iam.Kind{})
	res := grade(t, e, ex.Spec, ex.Solution)
	for _, c := range res.Checks {
		if c.Phase == grader.PhaseStatic && c.Status != grader.CheckPass {
			t.Errorf("reference answer: %s is %s: %s", c.ID, c.Status, c.Message)
		}
	}
	if len(ex.Wrong) < 8 {
		t.Fatalf("only %d known-wrong answers", len(ex.Wrong))
	}
	for _, w := range ex.Wrong {
		t.Run(w.File, func(t *testing.T) {
			res := grade(t, e, ex.Spec, w.Body)
			c := res.Check(w.Fails)
			if c == nil || c.Status != grader.CheckFail {
				t.Fatalf("%s must fail %s:\n%s", w.File, w.Fails, describe(res))
			}
			if c.Message == "" || c.Field == "" || !strings.HasPrefix(c.Field, "/") {
				t.Errorf("%s: a failed check needs a message and a JSON Pointer: %+v", w.Fails, c)
			}
		})
	}
}

// TestRunVerdicts grades the reference and every known-wrong answer through
// the real run phase and asserts the verdict, the failing check, and what
// the run observed.
func TestRunVerdicts(t *testing.T) {
	sb := sandboxtest.New(t)
	ex := gradertest.Load(t, exerciseDir)
	e := grader.NewEngine(sb, quiet, iam.Kind{})

	t.Run("solution-with-recommended-trust-conditions", func(t *testing.T) {
		res := grade(t, e, ex.Spec, withRecommendedTrust(t, ex.Solution))
		if res.Status != grader.StatusPass || res.Score != 1 {
			t.Fatalf("the reference with AWS's recommended trust conditions must pass:\n%s\n%s", describe(res), res.Log)
		}
	})

	t.Run("solution.json", func(t *testing.T) {
		res := grade(t, e, ex.Spec, ex.Solution)
		if res.Status != grader.StatusPass || res.Score != 1 {
			t.Fatalf("the reference must pass:\n%s\n%s", describe(res), res.Log)
		}
		for id, want := range map[string]string{
			"iam.run-start":  "pulled 123456789012.dkr.ecr.us-east-1.amazonaws.com/api-worker:1.4.2",
			"iam.run-read":   "GetObject reports-bucket/daily/2024-05-01.csv: 200 OK, 3 rows",
			"iam.run-denied": "PutObject reports-bucket/daily/x.csv: AccessDenied — good, the task role cannot write",
			"iam.run-logs":   "PutLogEvents",
		} {
			if c := res.Check(id); c == nil || c.Phase != grader.PhaseRun || !strings.Contains(c.Message, want) {
				t.Errorf("%s: want a run check saying %q, got %+v", id, want, c)
			}
		}
		if res.Timings.RunMs == 0 {
			t.Errorf("no run phase timing")
		}
	})

	// What the run phase must observe for each known-wrong answer, beyond
	// its failing static check.
	observed := map[string]struct{ check, status, contains string }{
		"wrong/roles-swapped.json":            {"iam.run-start", "fail", "ResourceInitializationError: unable to pull secrets or registry auth"},
		"wrong/task-s3-star.json":             {"iam.run-denied", "fail", "PutObject reports-bucket/daily/x.csv: 200 OK"},
		"wrong/execution-missing-secret.json": {"iam.run-start", "fail", "secretsmanager:GetSecretValue"},
		"wrong/task-put-object.json":          {"iam.run-denied", "fail", "PutObject reports-bucket/daily/x.csv: 200 OK"},
		"wrong/wrong-trust-principal.json":    {"iam.run-start", "fail", "cannot assume the execution role"},
		"wrong/wrong-bucket.json":             {"iam.run-read", "fail", "AccessDenied (403)"},
		"wrong/admin-star.json":               {"iam.run-denied", "fail", "GetObject billing-exports/2024-05.csv: 200 OK"},
		"wrong/execution-with-s3.json":        {"iam.run-denied", "pass", "AccessDenied — good"},
		"wrong/logs-create-only.json":         {"iam.run-logs", "fail", "logs:PutLogEvents"},
		"wrong/trust-anyone.json":             {"iam.run-read", "pass", "200 OK"},
		"wrong/conditional-read.json":         {"iam.run-read", "fail", "AccessDenied"},
		"wrong/bucket-wildcard.json":          {"iam.run-read", "pass", "200 OK"},
		"wrong/lowercase-effect.json":         {"iam.run-start", "skip", "IAM would reject a policy document"},
		// Issue 10: IAM as IAM evaluates it.
		"wrong/trust-extra-account.json":          {"iam.run-read", "pass", "200 OK"},
		"wrong/trust-own-account.json":            {"iam.run-start", "pass", "with the execution role"},
		"wrong/trust-web-identity.json":           {"iam.run-read", "pass", "200 OK"},
		"wrong/trust-wrong-source-account.json":   {"iam.run-read", "fail", "got no credentials"},
		"wrong/trust-forallvalues-anyone.json":    {"iam.run-start", "pass", "with the execution role"},
		"wrong/trust-unevaluated-condition.json":  {"iam.run-read", "fail", "got no credentials"},
		"wrong/task-get-object-star.json":         {"iam.run-denied", "pass", "AccessDenied — good"},
		"wrong/task-star-object.json":             {"iam.run-denied", "fail", "PutObject reports-bucket/daily/x.csv: 200 OK"},
		"wrong/execution-logs-star.json":          {"iam.run-logs", "pass", "PutLogEvents"},
		"wrong/execution-secret-prefix.json":      {"iam.run-start", "pass", "with the execution role"},
		"wrong/task-not-action.json":              {"iam.run-denied", "fail", "PutObject reports-bucket/daily/x.csv: 200 OK"},
		"wrong/task-deny-not-enough.json":         {"iam.run-denied", "fail", "PutObject reports-bucket/daily/x.csv: 200 OK"},
		"wrong/task-insecure-transport-only.json": {"iam.run-read", "fail", "AccessDenied"},
		"wrong/sid-duplicate.json":                {"iam.run-start", "skip", "IAM would reject a policy document"},
		"wrong/sid-hyphen.json":                   {"iam.run-start", "skip", "IAM would reject a policy document"},
		"wrong/trust-not-principal.json":          {"iam.run-start", "skip", "IAM would reject a policy document"},
	}
	for _, w := range ex.Wrong {
		t.Run(w.File, func(t *testing.T) {
			res := grade(t, e, ex.Spec, w.Body)
			if res.Status != grader.StatusFail || !res.Gradable {
				t.Fatalf("want a gradable fail:\n%s\n%s", describe(res), res.Log)
			}
			if c := res.Check(w.Fails); c == nil || c.Status != grader.CheckFail {
				t.Fatalf("must fail %s:\n%s", w.Fails, describe(res))
			}
			want, ok := observed[w.File]
			if !ok {
				t.Fatalf("no expected run observation for %s", w.File)
			}
			c := res.Check(want.check)
			if c == nil || string(c.Status) != want.status || !strings.Contains(c.Message, want.contains) {
				t.Fatalf("%s: want %s with %q:\n%s", want.check, want.status, want.contains, describe(res))
			}
		})
	}
}

// withRecommendedTrust is the reference answer with the trust conditions
// AWS recommends for ECS tasks (shared/facts.md: aws:SourceAccount and
// aws:SourceArn) on both roles: a correct answer, not a mistake.
func withRecommendedTrust(t testing.TB, solution []byte) []byte {
	t.Helper()
	var m map[string]map[string]any
	if err := json.Unmarshal(solution, &m); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"executionRole", "taskRole"} {
		m[role]["trustPolicy"] = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
			"Condition": map[string]any{
				"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"},
				"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
			}}}}
	}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestRecommendedTrustConditionsPass: the static checks accept the
// recommended conditions and say they refuse the service acting for
// another account.
func TestRecommendedTrustConditionsPass(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	e := grader.NewEngine(nil, quiet, iam.Kind{})
	res := grade(t, e, ex.Spec, withRecommendedTrust(t, ex.Solution))
	for _, c := range res.Checks {
		if c.Phase == grader.PhaseStatic && c.Status != grader.CheckPass {
			t.Errorf("%s is %s: %s", c.ID, c.Status, c.Message)
		}
	}
	if c := res.Check("iam.trust"); c == nil || !strings.Contains(c.Message, "also refuse ecs-tasks.amazonaws.com acting for another account") {
		t.Errorf("the trust check should note the confused-deputy conditions: %+v", c)
	}
}

func TestMalformedSubmissions(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	e := grader.NewEngine(nil, quiet, iam.Kind{})
	tests := []struct {
		name, body, reason string
	}{
		{"Empty", ``, "empty"},
		{"NotJSON", "executionRole: yes", "malformed JSON"},
		{"Truncated", "{\n  \"executionRole\": {\n", "malformed JSON"},
		{"List", `[1, 2]`, "must be an object"},
		{"RoleIsNumber", `{"executionRole": 5}`, "must be an object"},
		{"UnknownField", `{"executionRole": {}, "taskRole": {}, "lambdaRole": {}}`, `unknown field "lambdaRole"`},
		{"TwoValues", `{} {}`, "more than one JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := grade(t, e, ex.Spec, []byte(tt.body))
			if res.Status != grader.StatusError || res.Gradable || !strings.Contains(res.Reason, tt.reason) {
				t.Fatalf("want an ungradable error mentioning %q:\n%s", tt.reason, describe(res))
			}
		})
	}

	// Answers that are JSON of the right shape but not valid policies are
	// graded: the documents check fails and points at the field.
	var sol map[string]map[string]map[string]any
	if err := json.Unmarshal(ex.Solution, &sol); err != nil {
		t.Fatal(err)
	}
	docs := []struct {
		name  string
		edit  func(map[string]map[string]map[string]any)
		field string
	}{
		{"MissingTaskRole", func(m map[string]map[string]map[string]any) { delete(m, "taskRole") }, "/taskRole/trustPolicy"},
		{"ShellInAction", func(m map[string]map[string]map[string]any) {
			m["taskRole"]["permissionPolicy"]["Statement"] = []any{map[string]any{"Effect": "Allow", "Action": "s3:GetObject; rm -rf /", "Resource": "*"}}
		}, "/taskRole/permissionPolicy/Statement/0/Action"},
		{"HugeResourceList", func(m map[string]map[string]map[string]any) {
			res := make([]any, 1000)
			for i := range res {
				res[i] = fmt.Sprintf("arn:aws:s3:::reports-bucket/daily/%d", i)
			}
			res[999] = 12345
			m["taskRole"]["permissionPolicy"]["Statement"] = []any{map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": res}}
		}, "/taskRole/permissionPolicy/Statement/0/Resource/999"},
		{"StatementAsString", func(m map[string]map[string]map[string]any) {
			m["executionRole"]["trustPolicy"]["Statement"] = "Allow everything"
		}, "/executionRole/trustPolicy/Statement"},
	}
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			var m map[string]map[string]map[string]any
			_ = json.Unmarshal(ex.Solution, &m)
			d.edit(m)
			body, _ := json.Marshal(m)
			res := grade(t, e, ex.Spec, body)
			c := res.Check("iam.documents")
			if c == nil || c.Status != grader.CheckFail || c.Field != d.field {
				t.Fatalf("want iam.documents failing at %s:\n%s", d.field, describe(res))
			}
			for _, c := range res.Checks {
				if c.Phase == grader.PhaseRun && c.Status != grader.CheckSkip {
					t.Errorf("run check %s must be skipped when a document is invalid", c.ID)
				}
			}
		})
	}
}

// BenchmarkGradeReference grades the reference answer end to end with a warm
// lab image and reports the latency percentiles.
func BenchmarkGradeReference(b *testing.B) {
	sb := sandboxtest.New(b)
	ex := gradertest.Load(b, exerciseDir)
	e := grader.NewEngine(sb, quiet, iam.Kind{})
	if _, err := sb.LabImage(context.Background()); err != nil {
		b.Fatal(err)
	}
	if res := grade(b, e, ex.Spec, ex.Solution); res.Status != grader.StatusPass { // warm-up
		b.Fatalf("reference: %s", describe(res))
	}
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		res := grade(b, e, ex.Spec, ex.Solution)
		took = append(took, time.Since(t0))
		if res.Status != grader.StatusPass {
			b.Fatalf("reference: %s", describe(res))
		}
	}
	b.StopTimer()
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	pct := func(p float64) float64 {
		i := int(float64(len(took)-1) * p)
		return float64(took[i].Milliseconds())
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}
