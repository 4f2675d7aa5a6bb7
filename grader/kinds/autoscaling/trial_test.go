package autoscaling

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"coldstart/exercises/labs/runworker"
	"coldstart/grader"
	"coldstart/grader/gradertest"
)

const exerciseDir = "../../../exercises/ecs-service-autoscaling"

// localPool serves n run-worker tasks in this process, for the trials that
// check the scaler's verdicts without a container engine.
func localPool(t *testing.T, sc *Scenario, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		w := runworker.New(runworker.Config{Parallelism: sc.App.Parallelism, Work: time.Duration(sc.App.WorkMs) * time.Millisecond}, json.NewEncoder(io.Discard))
		srv := httptest.NewServer(w.Handler())
		t.Cleanup(srv.Close)
		addrs[i] = strings.TrimPrefix(srv.URL, "http://")
	}
	return addrs
}

func trialOf(t *testing.T, file string) (*Report, *Scenario, Settings) {
	t.Helper()
	ex := gradertest.Load(t, exerciseDir)
	sc, err := LoadScenario(ex.Spec)
	if err != nil {
		t.Fatal(err)
	}
	body := ex.Solution
	for _, w := range ex.Wrong {
		if w.File == file {
			body = w.Body
		}
	}
	sub, probs, err := Parse(body)
	if err != nil || len(probs) > 0 {
		t.Fatalf("%s: %v %v", file, err, probs)
	}
	st := settingsOf(sub)
	tr := &Trial{Scenario: sc, Settings: st, Pool: localPool(t, sc, min(st.Max, sc.Trial.TaskCap)),
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Progress: t.Logf}
	rep, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep, sc, st
}

// TestVerdictsWithLocalTasks plays the reference and the run-phase wrong
// answers against run-worker tasks served in this process: the scaler's
// verdicts and their reasons, without a container engine.
func TestVerdictsWithLocalTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a compressed day per answer")
	}
	for _, tt := range runAnswers {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			rep, sc, st := trialOf(t, tt.file)
			run := runChecks(sc)
			l := latencyCheck(run[0], rep, sc, st)
			c := costCheck(run[1], rep, sc, st, l.Status == grader.CheckPass)
			t.Logf("%s: %.1f%% slow, %.0f task-seconds, peak %d\n  %s\n  %s", tt.file, rep.SlowPercent(), rep.TaskSeconds, rep.Peak, l.Message, c.Message)
			got := map[string]grader.Check{CheckLatency: l, CheckTaskSeconds: c}
			if tt.fails == "" {
				if l.Status != grader.CheckPass || c.Status != grader.CheckPass {
					t.Fatalf("the reference did not pass: %s / %s", l.Message, c.Message)
				}
				return
			}
			f := got[tt.fails]
			if f.Status != grader.CheckFail || !strings.Contains(f.Message, tt.phrase) || f.Field != tt.field {
				t.Fatalf("%s: %s at %s: %s (want a failure at %s saying %q)", tt.fails, f.Status, f.Field, f.Message, tt.field, tt.phrase)
			}
		})
	}
}
