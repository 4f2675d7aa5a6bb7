package grader_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"coldstart/grader"
)

// fakeKind has the static checks and the run phase its fields say; grade,
// when set, is its run phase.
type fakeKind struct {
	static    []grader.Check
	grade     func(ctx context.Context, g *grader.Grading) error
	runChecks []grader.Check
	refused   string
	parse     func(body []byte) error
}

func (fakeKind) Name() string { return "fake" }
func (k fakeKind) Plan(g *grader.Grading) (*grader.Plan, error) {
	if k.parse != nil {
		if err := k.parse(g.Body); err != nil {
			return nil, err
		}
	}
	return &grader.Plan{Checks: k.static, Run: k.grade, RunChecks: k.runChecks, Refused: k.refused}, nil
}

var _ grader.Kind = fakeKind{}

func pass(id string) grader.Check {
	return grader.Check{ID: id, Title: id, Status: grader.CheckPass, Points: 1, MaxPoints: 1}
}

func fail(id string) grader.Check {
	return grader.Check{ID: id, Title: id, Status: grader.CheckFail, Points: 0, MaxPoints: 1}
}

func TestEngineGrade(t *testing.T) {
	tests := []struct {
		name       string
		grade      func(ctx context.Context, g *grader.Grading) error
		parse      func(body []byte) error
		body       string
		timeLimit  time.Duration
		wantStatus grader.Status
		wantScore  float64
		gradable   bool
		reason     string
	}{
		{
			name:       "AllPass",
			grade:      func(_ context.Context, g *grader.Grading) error { g.Add(pass("a")); g.Add(pass("b")); return nil },
			wantStatus: grader.StatusPass, wantScore: 1, gradable: true,
		},
		{
			name: "PartialCredit",
			grade: func(_ context.Context, g *grader.Grading) error {
				g.Add(pass("a"))
				g.Add(fail("b"))
				g.Add(pass("c"))
				return nil
			},
			wantStatus: grader.StatusFail, wantScore: 0.667, gradable: true,
		},
		{
			name: "MalformedInput",
			parse: func(body []byte) error {
				var v map[string]any
				if err := json.Unmarshal(body, &v); err != nil {
					return grader.JSONError(body, err)
				}
				return nil
			},
			body:       "{\n  \"cpu\": 256,\n  oops\n}",
			wantStatus: grader.StatusError, gradable: false, reason: "line 3, column 3",
		},
		{
			name: "InfrastructureFailure",
			grade: func(_ context.Context, g *grader.Grading) error {
				g.Add(pass("a"))
				return errors.New("the container engine is unavailable")
			},
			wantStatus: grader.StatusError, wantScore: 1, gradable: false, reason: "container engine is unavailable",
		},
		{
			name:       "Panic",
			grade:      func(context.Context, *grader.Grading) error { panic("boom") },
			wantStatus: grader.StatusError, gradable: false, reason: "internal error",
		},
		{
			name: "TimeLimit",
			grade: func(ctx context.Context, g *grader.Grading) error {
				<-ctx.Done()
				return ctx.Err()
			},
			timeLimit:  50 * time.Millisecond,
			wantStatus: grader.StatusError, gradable: false, reason: "did not finish within the grading's time limit",
		},
		{
			name:       "RunPhaseWithoutEngine",
			grade:      func(ctx context.Context, g *grader.Grading) error { _, err := g.Containers(ctx); return err },
			wantStatus: grader.StatusError, gradable: false, reason: "no container engine",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := grader.NewEngine(nil, nil, fakeKind{grade: tt.grade, parse: tt.parse})
			var events []grader.Event
			res := e.Grade(context.Background(), grader.Request{
				Spec: grader.Spec{ID: "ex", Kind: "fake", TimeLimit: tt.timeLimit}, Body: []byte(tt.body),
				Events: func(ev grader.Event) { events = append(events, ev) },
			})
			if res.Status != tt.wantStatus || res.Gradable != tt.gradable {
				t.Fatalf("status %s gradable %v, want %s %v (reason %q)", res.Status, res.Gradable, tt.wantStatus, tt.gradable, res.Reason)
			}
			if tt.wantStatus != grader.StatusError && res.Score != tt.wantScore {
				t.Errorf("score %v, want %v", res.Score, tt.wantScore)
			}
			if !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", res.Reason, tt.reason)
			}
			if res.Exercise != "ex" || res.Checks == nil {
				t.Errorf("result %+v lacks exercise id or checks", res)
			}
			checkEvents := 0
			for _, ev := range events {
				if ev.Type == grader.EventCheck {
					checkEvents++
				}
			}
			if tt.reason == "" && checkEvents != len(res.Checks) {
				t.Errorf("%d check events for %d checks", checkEvents, len(res.Checks))
			}
		})
	}
}

func TestEngineRefusesOversizedAndUnknown(t *testing.T) {
	e := grader.NewEngine(nil, nil, fakeKind{grade: func(context.Context, *grader.Grading) error { t.Fatal("graded"); return nil }})
	res := e.Grade(context.Background(), grader.Request{Spec: grader.Spec{ID: "ex", Kind: "fake"}, Body: make([]byte, grader.MaxSubmissionBytes+1)})
	if res.Status != grader.StatusError || !strings.Contains(res.Reason, "limit is 64 KiB") {
		t.Errorf("oversized: %s %q", res.Status, res.Reason)
	}
	res = e.Grade(context.Background(), grader.Request{Spec: grader.Spec{ID: "ex", Kind: "nope"}})
	if res.Status != grader.StatusError || !strings.Contains(res.Reason, `kind "nope"`) {
		t.Errorf("unknown kind: %s %q", res.Status, res.Reason)
	}
}

func TestResultJSONShape(t *testing.T) {
	r := grader.Result{Exercise: "x", Status: grader.StatusFail, Checks: []grader.Check{fail("a")}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"exercise":"x"`, `"status":"fail"`, `"gradable":false`, `"checks":[`, `"maxPoints":1`, `"timings":{"queuedMs":0,"staticMs":0,"runMs":0}`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
}

// The engine sequences the phases: a refused submission is not run, a run
// that cannot observe after the static checks failed keeps their verdict,
// and run checks the run leaves unrecorded are reported as skipped.
func TestEnginePhases(t *testing.T) {
	probe := grader.Check{ID: "run.probe", Title: "The app answers", Phase: grader.PhaseRun, MaxPoints: 2}
	busy := func(_ context.Context, g *grader.Grading) error {
		g.Unobserved(grader.Check{ID: probe.ID, Title: probe.Title, MaxPoints: 2, Message: "the engine refused to start the app"})
		return nil
	}
	tests := []struct {
		name       string
		kind       fakeKind
		wantStatus grader.Status
		wantProbe  grader.CheckStatus
		message    string
		ran        bool
	}{
		{"RefusedIsNotRun", fakeKind{static: []grader.Check{fail("a")}, refused: "the platform refuses it",
			grade: func(context.Context, *grader.Grading) error { panic("ran a refused submission") }},
			grader.StatusFail, grader.CheckSkip, "the platform refuses it", false},
		{"UnobservedWithoutVerdictIsError", fakeKind{static: []grader.Check{pass("a")}, grade: busy},
			grader.StatusError, grader.CheckError, "does not count", true},
		{"UnobservedAfterStaticFailureKeepsVerdict", fakeKind{static: []grader.Check{fail("a")}, grade: busy},
			grader.StatusFail, grader.CheckSkip, "decide the verdict", true},
		{"RunErrorAfterStaticFailureKeepsVerdict", fakeKind{static: []grader.Check{fail("a")},
			grade: func(context.Context, *grader.Grading) error { return errors.New("no engine") }},
			grader.StatusFail, grader.CheckSkip, "decide the verdict", true},
		{"UnrecordedRunCheckIsSkipped", fakeKind{static: []grader.Check{pass("a")},
			grade: func(context.Context, *grader.Grading) error { return nil }},
			grader.StatusPass, grader.CheckSkip, "not observed", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.kind.runChecks = []grader.Check{probe}
			e := grader.NewEngine(nil, nil, tt.kind)
			res := e.Grade(context.Background(), grader.Request{Spec: grader.Spec{ID: "ex", Kind: "fake"}})
			if res.Status != tt.wantStatus {
				t.Fatalf("status %s, want %s (reason %q)", res.Status, tt.wantStatus, res.Reason)
			}
			c := res.Check(probe.ID)
			if c == nil || c.Status != tt.wantProbe || !strings.Contains(c.Message, tt.message) {
				t.Fatalf("probe check %+v, want %s saying %q", c, tt.wantProbe, tt.message)
			}
			if c.Points != 0 || c.MaxPoints != 2 {
				t.Errorf("probe check has %v of %v points, want 0 of 2", c.Points, c.MaxPoints)
			}
			if len(res.Checks) != 2 {
				t.Errorf("%d checks, want the static one and the probe once", len(res.Checks))
			}
		})
	}
}
