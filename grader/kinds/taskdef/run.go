package taskdef

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"coldstart/grader"
	"coldstart/grader/sandbox"
)

// The run checks, in the order they are observed.
var runChecks = []grader.Check{
	{ID: "run.start", Title: "The task's containers start", Phase: grader.PhaseRun, MaxPoints: 1},
	{ID: "run.healthy", Title: "The app becomes healthy and is never marked unhealthy", Phase: grader.PhaseRun, MaxPoints: 1},
	{ID: "run.port", Title: "The app answers on its mapped port", Phase: grader.PhaseRun, MaxPoints: 1},
	{ID: "run.secret", Title: "The app receives the database password", Phase: grader.PhaseRun, MaxPoints: 1},
	{ID: "run.memory", Title: "The app stays within its memory limit", Phase: grader.PhaseRun, MaxPoints: 1},
	{ID: "run.health-command", Title: "The health check fails when the app is unhealthy", Phase: grader.PhaseRun, MaxPoints: 1},
	{ID: "run.graceful-stop", Title: "A request in flight completes when the task stops", Phase: grader.PhaseRun, MaxPoints: 1},
}

// minProbeTimeout is the shortest health-check timeout used in the run.
// Starting a probe inside a container can take seconds on a busy machine;
// the app answers /healthz at once (or refuses the connection at once), so
// a longer timeout changes no verdict, while a compressed 0.2 s one would
// fail a healthy app whenever the machine is busy.
const minProbeTimeout = 5 * time.Second

// probeTimedOut reports Docker's output for a probe it gave up on.
func probeTimedOut(out string) bool { return strings.Contains(out, "exceeded timeout") }

// runner runs one task definition and records the run checks.
type runner struct {
	g     *grader.Grading
	td    *TaskDefinition
	sc    *Scenario
	scope *sandbox.Scope
	net   *sandbox.Network

	mu         sync.Mutex // guards containers
	containers map[string]*sandbox.Container
	app        *sandbox.Container
	appDef     ContainerDefinition
	appIndex   int
	appIP      string
	appPort    string // the port the app process listens on
	memLimit   int64
	memCapped  bool
	recorded   map[string]bool
	// client reaches the task's containers through the relay inside the
	// task's network; lastErr is why its last request got no answer.
	client  *http.Client
	lastErr error
}

func runTask(ctx context.Context, g *grader.Grading, td *TaskDefinition, sc *Scenario) error {
	r := &runner{g: g, td: td, sc: sc, containers: map[string]*sandbox.Container{}, recorded: map[string]bool{}}
	r.appDef, r.appIndex = sc.app(td)
	if r.appIndex < 0 {
		r.skipRest(fmt.Sprintf("there is no container named %q to observe", sc.App.Name))
		return nil
	}
	scope, err := sandbox.Open(ctx, g)
	if err != nil {
		return err
	}
	r.scope = scope
	// The engine ends ctx a little before the grading's own limit and
	// reports the checks this run did not reach.
	defer r.collectLogs(context.WithoutCancel(ctx))
	if !r.start(ctx) {
		r.skipRest("the task did not start")
		return nil
	}
	if !r.healthy(ctx) {
		r.skipRest("the app container is not running")
		return nil
	}
	if r.get(ctx, r.appPort, r.sc.Health.Path) == 0 {
		// The app is up but answers nothing: give a memory kill in
		// progress a moment to show, then stop rather than time out on
		// every request-based check.
		if !r.waitExit(ctx, "run.memory", 5*time.Second) {
			r.busy("run.port", fmt.Sprintf("the app's container runs, but it did not answer the grader's request on %s:%s inside the task's network", r.appIP, r.appPort), errText(r.lastErr))
		}
		r.skipRest(fmt.Sprintf("the app never answered on %s:%s", r.appIP, r.appPort))
		return nil
	}
	r.port(ctx)
	r.secret(ctx)
	r.memory(ctx, 0)
	r.healthCommand(ctx)
	r.gracefulStop(ctx)
	return nil
}

// scaled compresses a scenario duration by the time scale.
func (r *runner) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / r.sc.TimeScale)
}

func (r *runner) secs(n int64) time.Duration { return r.scaled(time.Duration(n) * time.Second) }

func (r *runner) record(c grader.Check) {
	if r.recorded[c.ID] {
		return
	}
	for _, rc := range runChecks {
		if rc.ID == c.ID {
			c.Title, c.MaxPoints = rc.Title, rc.MaxPoints
		}
	}
	c.Phase = grader.PhaseRun
	if c.Status == grader.CheckPass {
		c.Points = c.MaxPoints
	}
	r.recorded[c.ID] = true
	r.g.Add(c)
}

// busy records a run check the machine was too busy to observe. It is an
// error (the attempt does not count) unless the static checks already
// failed the submission: the verdict then stands without this observation.
func (r *runner) busy(id, msg, observed string) {
	if r.recorded[id] {
		return
	}
	c := grader.Check{ID: id, Message: msg, Observed: observed}
	for _, rc := range runChecks {
		if rc.ID == id {
			c.Title, c.MaxPoints = rc.Title, rc.MaxPoints
		}
	}
	r.recorded[id] = true
	r.g.Unobserved(c)
}

func (r *runner) pass(id, msg, observed string) {
	r.record(grader.Check{ID: id, Status: grader.CheckPass, Message: msg, Observed: observed})
}

func (r *runner) fail(id string, f finding) {
	r.record(grader.Check{ID: id, Status: grader.CheckFail, Field: f.field, Message: f.message, Observed: f.observed, Expected: f.expected, Hint: f.hint})
}

func (r *runner) skipRest(reason string) {
	var rest []grader.Check
	for _, c := range runChecks {
		if !r.recorded[c.ID] {
			r.recorded[c.ID] = true
			rest = append(rest, c)
		}
	}
	r.g.SkipAll(reason, rest...)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return grader.Clip(err.Error())
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return grader.Clip(s)
}

func lastN(xs []string, n int) string {
	if len(xs) > n {
		xs = xs[len(xs)-n:]
	}
	return strings.Join(xs, "; ")
}
