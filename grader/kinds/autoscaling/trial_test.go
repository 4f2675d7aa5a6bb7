package autoscaling

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

// answerOf loads the exercise's scenario and the settings of one of its
// answers: the reference, or the known-wrong answer in file.
func answerOf(t *testing.T, file string) (*Scenario, Settings) {
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
	return sc, settingsOf(sub)
}

func trialOf(t *testing.T, file string) (*Report, *Scenario, Settings) {
	t.Helper()
	sc, st := answerOf(t, file)
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

// slowPath delays every nth response on its way back, as a busy machine
// delays a request between the grader and a task.
type slowPath struct {
	next  http.RoundTripper
	every int
	delay time.Duration
	n     atomic.Int64
}

func (p *slowPath) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(r)
	if err == nil && p.n.Add(1)%int64(p.every) == 0 {
		time.Sleep(p.delay)
	}
	return resp, err
}

// TestABusyPathIsNotThePolicys plays the day with one response in ten
// held back 300 ms on its way: the reference's requests are then slow, but
// not in the tasks, so the trial cannot judge it and says so; a MaxCapacity
// too low still fails, because its requests wait in the tasks' queues.
func TestABusyPathIsNotThePolicys(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a compressed day per answer")
	}
	for _, tt := range []struct {
		file   string
		status grader.CheckStatus
		phrase string
	}{
		{"solution.json", grader.CheckError, "took longer only on their way between the grader and the tasks"},
		{"wrong/max-too-low.json", grader.CheckFail, "sat at its MaxCapacity of 4 tasks"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			sc, st := answerOf(t, tt.file)
			path := &slowPath{next: &http.Transport{MaxIdleConnsPerHost: 64}, every: 10, delay: 300 * time.Millisecond}
			tr := &Trial{Scenario: sc, Settings: st, Pool: localPool(t, sc, min(st.Max, sc.Trial.TaskCap)), Transport: path}
			rep, err := tr.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			l := latencyCheck(runChecks(sc)[0], rep, sc, st)
			t.Logf("%.1f%% slow, %d of %d slow inside the tasks: %s: %s", rep.SlowPercent(), rep.SlowInTask, rep.Slow, l.Status, l.Message)
			if rep.SlowPercent() <= sc.Latency.MaxSlowPercent {
				t.Fatalf("the slow path slowed only %.1f%% of the requests; the test needs more than %g%%", rep.SlowPercent(), sc.Latency.MaxSlowPercent)
			}
			if l.Status != tt.status || !strings.Contains(l.Message, tt.phrase) {
				t.Fatalf("%s: %s (want %s saying %q)", l.Status, l.Message, tt.status, tt.phrase)
			}
		})
	}
}
