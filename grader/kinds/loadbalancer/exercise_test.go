package loadbalancer_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/loadbalancer"
	"coldstart/grader/sandbox/sandboxtest"
)

const (
	exerciseDir = "../../../exercises/lb-rolling-deploy"
	rollbackDir = "../../../exercises/rollback-broken-revision"
)

// why holds, per exercise, a phrase each run-phase answer's failing check
// must say, so a wrong answer fails for its own reason and not by accident.
var why = map[string]map[string]string{exerciseDir: {
	"wrong/health-check-wrong-path.json":        "no task had passed the health check: task-1 was stopped as unhealthy",
	"wrong/no-grace-period.json":                "no task lasted long enough to pass",
	"wrong/deregistration-delay-too-short.json": "cut when the deregistration delay ended",
	"wrong/stop-before-start.json":              "no healthy target",
	"wrong/default-deregistration-delay.json":   "was still draining",
	"wrong/matcher-204.json":                    "the matcher accepts 204",
}, rollbackDir: {
	"wrong/no-circuit-breaker.json":       "without the circuit breaker ECS goes on replacing them",
	"wrong/breaker-without-rollback.json": "with rollback off ECS only stops launching tasks",
	"wrong/grace-period-too-long.json":    "with a grace period of 120 s",
	"wrong/stop-before-start.json":        "no healthy target",
	"wrong/health-check-wrong-path.json":  "GET /health answered 404",
	"wrong/no-grace-period.json":          "no task lasted long enough to pass",
	"wrong/slow-failure-detection.json":   "after 5 failed checks 30 s apart",
}}

func TestStaticWrongAnswersFailWithoutContainers(t *testing.T) {
	for _, dir := range []string{exerciseDir, rollbackDir} {
		t.Run(filepath.Base(dir), func(t *testing.T) { staticWrongAnswers(t, dir) })
	}
}

func staticWrongAnswers(t *testing.T, dir string) {
	ex := gradertest.Load(t, dir)
	engine := grader.NewEngine(nil, nil, loadbalancer.Kind{})
	n := 0
	for _, w := range ex.Wrong {
		if _, run := why[dir][w.File]; run {
			continue
		}
		n++
		t.Run(w.File, func(t *testing.T) {
			res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: w.Body})
			c := res.Check(w.Fails)
			if res.Status != grader.StatusFail || c == nil || c.Status != grader.CheckFail || c.Field == "" {
				t.Fatalf("status %s, check %s: %+v", res.Status, w.Fails, c)
			}
			second := loadbalancer.CheckDeploy
			if dir == rollbackDir {
				second = loadbalancer.CheckRolledBack
			}
			for _, id := range []string{loadbalancer.CheckHealthy, second, loadbalancer.CheckNoFailed} {
				if r := res.Check(id); r == nil || r.Status != grader.CheckSkip {
					t.Errorf("%s was not skipped: %+v", id, r)
				}
			}
		})
	}
	if n < 2 {
		t.Fatalf("only %d static wrong answers", n)
	}
}

func TestBadInput(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	engine := grader.NewEngine(nil, nil, loadbalancer.Kind{})
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "the answer is empty"},
		{"misspelt", `{"healthCheckGracePeriod": 30}`, `unknown field "healthCheckGracePeriod"`},
		{"wrong type", `{"stopTimeout": "30"}`, "must be a number"},
		{"not JSON", `stopTimeout: 30`, "malformed JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: []byte(tc.body)})
			if res.Status != grader.StatusError || res.Gradable || len(res.Checks) != 1 || !strings.Contains(res.Checks[0].Message, tc.want) {
				t.Fatalf("%+v", res)
			}
		})
	}
}

// TestDeploymentsInContainers plays the reference and every run-phase wrong
// answer for real: the probe container balances the api-worker tasks while
// the grader rolls the deployment.
func TestDeploymentsInContainers(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	if _, err := sb.LabImage(ctx); err != nil {
		t.Fatal(err)
	}
	engine := grader.NewEngine(sb, nil, loadbalancer.Kind{})
	for _, dir := range []string{exerciseDir, rollbackDir} {
		t.Run(filepath.Base(dir), func(t *testing.T) { playAnswers(t, ctx, engine, dir) })
	}
}

func playAnswers(t *testing.T, ctx context.Context, engine *grader.Engine, dir string) {
	ex := gradertest.Load(t, dir)
	t.Run("solution.json", func(t *testing.T) {
		res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Body: ex.Solution})
		if res.Status != grader.StatusPass || res.Score != 1 {
			t.Fatalf("status %s score %v reason %q: %+v\n%s", res.Status, res.Score, res.Reason, res.Checks, res.Log)
		}
		c := res.Check(loadbalancer.CheckNoFailed)
		if !strings.Contains(c.Message, "requests succeeded while the tasks were replaced") {
			t.Fatalf("%+v", c)
		}
		second := res.Check(loadbalancer.CheckDeploy)
		if second == nil {
			second = res.Check(loadbalancer.CheckRolledBack)
		}
		t.Logf("reference: %s; %s; run %d ms", second.Message, c.Message, res.Timings.RunMs)
	})
	for _, w := range ex.Wrong {
		phrase, ok := why[dir][w.File]
		if !ok {
			continue
		}
		t.Run(w.File, func(t *testing.T) {
			res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Body: w.Body})
			c := res.Check(w.Fails)
			if res.Status != grader.StatusFail || c == nil || c.Status != grader.CheckFail || !strings.Contains(c.Message, phrase) {
				t.Fatalf("status %s reason %q, check %s: %+v\nall: %+v\n%s", res.Status, res.Reason, w.Fails, c, res.Checks, res.Log)
			}
			t.Logf("%s: %s (run %d ms)", w.Fails, c.Message, res.Timings.RunMs)
		})
	}
}
