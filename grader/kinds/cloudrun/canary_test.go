package cloudrun_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/cloudrun"
	"coldstart/grader/sandbox/sandboxtest"
)

const canaryDir = "../../../exercises/cloud-run-canary"

// canaryWhy is a phrase each run-phase wrong answer's failing check must
// say: what the containers observed, in the student's terms.
var canaryWhy = map[string]string{
	"wrong/no-traffic-block.yaml":       "Without a traffic block every request follows the latest revision",
	"wrong/swapped-split.yaml":          "the canary must get 10%",
	"wrong/rest-on-older-revision.yaml": "orders-api-00040-kav served",
	"wrong/tag-on-current.yaml":         "reached orders-api-00041-tuz",
	"wrong/no-tag.yaml":                 `no traffic target of orders-api has the tag "canary"`,
	"wrong/canary-at-zero.yaml":         "orders-api-00042-b7c served 0 of 1000 requests",
}

// alsoRight are correct answers written differently from the reference:
// they must pass as well.
var alsoRight = map[string]func(string) string{
	// The new revision followed as the latest rather than named.
	"latest-revision": func(s string) string {
		return strings.Replace(s, "    - revisionName: orders-api-00042-b7c\n", "    - latestRevision: true\n", 1)
	},
	// The template left unnamed, so only latestRevision can reach it, and
	// a second tag on the current revision at 0%.
	"unnamed-template": func(s string) string {
		s = strings.Replace(s, "    metadata:\n      name: orders-api-00042-b7c\n", "", 1)
		s = strings.Replace(s, "    - revisionName: orders-api-00042-b7c\n", "    - latestRevision: true\n", 1)
		return s + "    - revisionName: orders-api-00041-tuz\n      percent: 0\n      tag: stable\n"
	},
}

// TestCanaryAnswersInContainers grades the reference, two other correct
// answers and every known-wrong answer in the real run phase (the static
// ones never reach it): each fails with the check it names, and only that
// kind of failure.
func TestCanaryAnswersInContainers(t *testing.T) {
	ex := gradertest.Load(t, canaryDir)
	sb := sandboxtest.New(t)
	warm(t, sb)
	engine := grader.NewEngine(sb, nil, cloudrun.New())
	grade := func(t *testing.T, body []byte) *grader.Result {
		t.Helper()
		var rec recorder
		start := time.Now()
		res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: body, Events: rec.add})
		var obs []string
		for _, id := range []string{"run.split", "run.rest", "run.tag"} {
			if c := res.Check(id); c != nil {
				obs = append(obs, id+" "+string(c.Status)+": "+c.Observed)
			}
		}
		t.Logf("%s in %.1f s score %.2f | %s", res.Status, time.Since(start).Seconds(), res.Score, strings.Join(obs, " | "))
		return res
	}
	pass := func(t *testing.T, body []byte) {
		res := grade(t, body)
		if res.Status != grader.StatusPass || res.Score != 1 {
			for _, c := range res.Checks {
				if c.Status != grader.CheckPass {
					t.Errorf("%s %s: %s", c.ID, c.Status, c.Message)
				}
			}
			t.Fatalf("status %s score %v reason %q, want a pass", res.Status, res.Score, res.Reason)
		}
		for _, id := range []string{"run.split", "run.rest", "run.tag"} {
			if c := res.Check(id); c.Phase != grader.PhaseRun || c.Observed == "" {
				t.Errorf("%s: phase %s observed %q; want what the run saw", id, c.Phase, c.Observed)
			}
		}
	}
	t.Run("solution.yaml", func(t *testing.T) { pass(t, ex.Solution) })
	names := make([]string, 0, len(alsoRight))
	for name := range alsoRight {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) { pass(t, []byte(alsoRight[name](string(ex.Solution)))) })
	}
	runPhase := 0
	for _, w := range ex.Wrong {
		if !strings.HasPrefix(w.Fails, "run.") {
			continue
		}
		runPhase++
		t.Run(w.File, func(t *testing.T) {
			res := grade(t, w.Body)
			if res.Status != grader.StatusFail || !res.Gradable {
				t.Fatalf("status %s gradable %v reason %q, want a fail", res.Status, res.Gradable, res.Reason)
			}
			for _, c := range res.Checks {
				if c.Phase == grader.PhaseStatic && c.Status != grader.CheckPass {
					t.Errorf("static check %s is %s: %s", c.ID, c.Status, c.Message)
				}
				if c.Status == grader.CheckError {
					t.Errorf("%s could not judge: %s", c.ID, c.Message)
				}
			}
			c := res.Check(w.Fails)
			if c.Status != grader.CheckFail {
				t.Fatalf("%s is %s, want fail: %s", w.Fails, c.Status, c.Message)
			}
			if !strings.Contains(c.Message, canaryWhy[w.File]) {
				t.Errorf("%s says %q; want it to say %q", w.Fails, c.Message, canaryWhy[w.File])
			}
			if res.Score > grader.CoreCap && w.Fails == "run.split" {
				t.Errorf("score %v with the split wrong, want at most %v", res.Score, grader.CoreCap)
			}
		})
	}
	if runPhase < 4 {
		t.Errorf("%d run-phase wrong answers, want at least 4", runPhase)
	}
	t.Run("starter", func(t *testing.T) {
		res := grade(t, ex.Starter)
		if res.Status != grader.StatusFail || res.Score != 0 {
			t.Errorf("starter: status %s score %v, want a fail scoring 0", res.Status, res.Score)
		}
	})
}

// The wrong answers the static checks catch fail there, with a field, and
// start no container.
func TestCanaryStaticWrongAnswers(t *testing.T) {
	ex := gradertest.Load(t, canaryDir)
	engine := grader.NewEngine(nil, nil, cloudrun.New())
	n := 0
	for _, w := range ex.Wrong {
		if strings.HasPrefix(w.Fails, "run.") {
			continue
		}
		n++
		t.Run(w.File, func(t *testing.T) {
			res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: w.Body})
			if res.Status != grader.StatusFail || !res.Gradable {
				t.Fatalf("status %s gradable %v reason %q, want fail", res.Status, res.Gradable, res.Reason)
			}
			for _, c := range res.Checks {
				switch {
				case c.ID == w.Fails && (c.Status != grader.CheckFail || c.Field == ""):
					t.Errorf("%s: %s at %q (%s), want a failure with a field", c.ID, c.Status, c.Field, c.Message)
				case c.ID != w.Fails && c.Phase == grader.PhaseStatic && c.Status != grader.CheckPass:
					t.Errorf("%s also %s: %s", c.ID, c.Status, c.Message)
				case c.Phase == grader.PhaseRun && c.Status != grader.CheckSkip:
					t.Errorf("%s: %s, want skipped", c.ID, c.Status)
				}
			}
			t.Logf("%s: %s", w.Fails, res.Check(w.Fails).Message)
			if res.Timings.RunMs != 0 {
				t.Errorf("run phase took %d ms; nothing should have run", res.Timings.RunMs)
			}
		})
	}
	if n < 6 {
		t.Errorf("%d static wrong answers, want at least 6", n)
	}
}

// BenchmarkCanaryReferenceGrading is the latency of one grading of the
// canary's reference, containers included; it reports p50 and p95 over the
// iterations.
//
//	flock /work/coord/docker.lock go test -run '^$' -bench BenchmarkCanaryReferenceGrading -benchtime 20x ./grader/kinds/cloudrun/
func BenchmarkCanaryReferenceGrading(b *testing.B) {
	ex := gradertest.Load(b, canaryDir)
	sb := sandboxtest.New(b)
	warm(b, sb)
	engine := grader.NewEngine(sb, nil, cloudrun.New())
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: ex.Solution})
		took = append(took, time.Since(start))
		if res.Status != grader.StatusPass {
			b.Fatalf("reference: status %s reason %q", res.Status, res.Reason)
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	at := func(q float64) time.Duration { return took[min(len(took)-1, int(q*float64(len(took))))] }
	b.ReportMetric(float64(at(0.50).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(at(0.95).Milliseconds()), "p95-ms")
}
