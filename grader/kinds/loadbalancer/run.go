package loadbalancer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"coldstart/exercises/labs/lbprobe"
	"coldstart/grader"
	"coldstart/grader/sandbox"
)

// Run check ids, in the order they are observed.
const (
	CheckHealthy    = "lb.targets-healthy"
	CheckDeploy     = "lb.deploy-completes"
	CheckRolledBack = "lb.rolled-back"
	CheckNoFailed   = "lb.no-failed-requests"
)

// runChecksFor lists the run checks: a deployment of a good revision must
// complete; one of a revision that never becomes healthy must end rolled
// back.
func runChecksFor(sc *Scenario) []grader.Check {
	second := grader.Check{ID: CheckDeploy, Title: "The deployment replaces every task in time", Phase: grader.PhaseRun, MaxPoints: 1}
	if sc.NewRevisionFails {
		second = grader.Check{ID: CheckRolledBack, Title: "The failing deployment ends rolled back in time", Phase: grader.PhaseRun, MaxPoints: 1}
	}
	return []grader.Check{
		{ID: CheckHealthy, Title: "The service's tasks pass the load balancer's health check", Phase: grader.PhaseRun, MaxPoints: 1},
		second,
		{ID: CheckNoFailed, Title: "No request fails while the deployment replaces the tasks", Phase: grader.PhaseRun, MaxPoints: 2},
	}
}

const (
	probeName   = "alb"
	controlPort = "9000"
	tick        = 150 * time.Millisecond
)

// task is one ECS task of the played service.
type task struct {
	name    string
	gen     int // 0: the running deployment, 1: the new one
	c       *sandbox.Container
	started time.Time
	state   string // running, draining, stopping, stopped
	health  string // the target group's state of it
	check   string // the last health check it got
}

// replacement is a task ECS stopped because the load balancer found it
// unhealthy, and how old it was then.
type replacement struct {
	text string
	age  float64 // platform seconds
}

// rollout is the deployment being played: the generation it converges
// to, the tasks of it that failed, and how it ended.
type rollout struct {
	gen        int
	failures   int    // new tasks stopped as unhealthy, for the circuit breaker
	outcome    string // "", completed, failed, rolled back
	rolledBack bool
}

// Outcomes of a rollout.
const (
	outcomeCompleted  = "completed"
	outcomeFailed     = "failed"
	outcomeRolledBack = "rolled back"
)

// breakerThreshold is the circuit breaker's failure threshold: half the
// desired count, at least 3 and at most 200 (ECS API reference).
func breakerThreshold(desired int) int {
	return min(max(int(math.Ceil(0.5*float64(desired))), 3), 200)
}

// deployment plays ECS's service scheduler: it starts tasks, registers
// them with the load balancer (the probe), replaces the ones the load
// balancer finds unhealthy once the grace period is over, and rolls a new
// deployment within the window of minimumHealthyPercent and
// maximumPercent, deregistering each old task and stopping it only when
// its deregistration delay is over.
type deployment struct {
	g     *grader.Grading
	sc    *Scenario
	st    Settings
	scope *sandbox.Scope
	net   string
	probe *sandbox.Container

	checks []grader.Check // the run checks, in order

	mu       sync.Mutex
	r        rollout
	tasks    []*task
	seq      int
	replaced []replacement // each time ECS stopped a task as unhealthy
	stops    sync.WaitGroup
}

func play(ctx context.Context, g *grader.Grading, sc *Scenario, st Settings) error {
	scope, err := sandbox.Open(ctx, g)
	if err != nil {
		return err
	}
	d := &deployment{g: g, sc: sc, st: st, scope: scope, checks: runChecksFor(sc)}
	runChecks := d.checks
	defer d.stops.Wait()
	g.Running(CheckHealthy, "Starting the load balancer and the service")
	nw, err := scope.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		return fmt.Errorf("the grading's network could not be created: %w", err)
	}
	d.net = nw.Name
	if d.probe, err = scope.Start(ctx, sandbox.ContainerSpec{Name: probeName, Cmd: []string{"lb-probe"}, Env: d.probeEnv(), Networks: []string{nw.Name}}); err != nil {
		return fmt.Errorf("the load balancer could not be started: %w", err)
	}
	if err := d.waitProbe(ctx); err != nil {
		return err
	}

	began := time.Now()
	outcome, err := d.converge(ctx, 0, began)
	if err != nil {
		return err
	}
	if outcome != outcomeCompleted {
		g.Add(d.unhealthyCheck(began))
		g.SkipAll("not played: the service never became healthy", runChecks[1], runChecks[2])
		return nil
	}
	g.Add(withResult(runChecks[0], grader.CheckPass, "", fmt.Sprintf("%s passed %s and took traffic %.0f s after the service started",
		strings.Join(d.names(0), " and "), d.lastCheck(0), sc.platform(time.Since(began)))))

	g.Running(runChecks[1].ID, "Deploying a new revision under steady traffic")
	if _, err := d.ctl(ctx, "/traffic?on=1"); err != nil {
		return err
	}
	time.Sleep(sc.real(5))
	deployBegan := time.Now()
	outcome, err = d.converge(ctx, 1, deployBegan)
	if err != nil {
		return err
	}
	took := sc.platform(time.Since(deployBegan))
	want := outcomeCompleted
	if sc.NewRevisionFails {
		want = outcomeRolledBack
	}
	done := outcome == want
	if done {
		time.Sleep(sc.real(5))
	}
	status, err := d.finishTraffic(ctx)
	if err != nil {
		return err
	}
	if sc.NewRevisionFails {
		g.Add(d.rollbackCheck(outcome, took))
	} else {
		g.Add(d.deployCheck(done, took))
	}
	g.Add(d.failedCheck(status, done))
	return nil
}

func (d *deployment) probeEnv() map[string]string {
	sc, st := d.sc, d.st
	secs := func(platform float64) string { return sc.real(platform).String() }
	return map[string]string{
		"CONTROL_PORT": controlPort, "HC_PATH": st.Path, "HC_MATCHER": st.Matcher,
		"HC_INTERVAL": secs(float64(st.Interval)), "HC_TIMEOUT": secs(float64(st.Timeout)),
		"HC_HEALTHY": strconv.Itoa(st.Healthy), "HC_UNHEALTHY": strconv.Itoa(st.Unhealthy),
		"DEREG_DELAY": secs(float64(st.DeregDelay)), "RATE": strconv.FormatFloat(sc.RequestsPerSecond, 'f', -1, 64),
		"SHORT_MS": secs(sc.ShortRequestSeconds), "LONG_MS": secs(sc.LongRequestSeconds), "LONG_EVERY": strconv.Itoa(sc.LongEvery),
	}
}

// ctl calls the probe's control API through docker exec: the grader
// never connects to a container's address itself.
func (d *deployment) ctl(ctx context.Context, path string) (lbprobe.Status, error) {
	var s lbprobe.Status
	code, out, err := d.probe.Exec(ctx, []string{"/bin/wget", "-q", "-O-", "http://127.0.0.1:" + controlPort + path})
	if err != nil {
		return s, fmt.Errorf("the load balancer could not be asked: %w", err)
	}
	if code != 0 {
		return s, fmt.Errorf("the load balancer refused %s (exit %d): %s", path, code, strings.TrimSpace(out))
	}
	// The exec stream may carry a line of the probe's own before the JSON.
	i := strings.Index(out, "{")
	if i < 0 {
		return s, fmt.Errorf("the load balancer answered %s with no status: %q", path, strings.TrimSpace(out))
	}
	if err := json.Unmarshal([]byte(out[i:]), &s); err != nil {
		return s, fmt.Errorf("the load balancer's status could not be read: %w", err)
	}
	return s, nil
}

func (d *deployment) waitProbe(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := d.ctl(ctx, "/status")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("the load balancer did not come up: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// converge plays the scheduler until the rollout to generation gen ends
// (completed, failed or rolled back) or the deadline passes; it returns
// the outcome, "" at the deadline.
func (d *deployment) converge(ctx context.Context, gen int, began time.Time) (string, error) {
	d.mu.Lock()
	d.r = rollout{gen: gen}
	d.mu.Unlock()
	deadline := began.Add(d.sc.real(d.sc.DeployDeadlineSeconds))
	for {
		status, err := d.ctl(ctx, "/status")
		if err != nil {
			return "", err
		}
		if outcome := d.step(ctx, status); outcome != "" {
			return outcome, nil
		}
		if time.Now().After(deadline) {
			return "", nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(tick):
		}
	}
}

// step applies one round of the scheduler and returns the rollout's
// outcome once it has one.
func (d *deployment) step(ctx context.Context, status lbprobe.Status) string {
	byName := map[string]lbprobe.TargetStatus{}
	for _, t := range status.Targets {
		byName[t.Name] = t
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	gen := d.r.gen
	grace := d.sc.real(float64(d.st.Grace))
	for _, t := range d.tasks {
		ts, ok := byName[t.name]
		if !ok {
			continue
		}
		t.check = ts.LastCheck
		switch {
		case t.state == "running":
			t.health = ts.State
			if ts.State == lbprobe.StateUnhealthy && time.Since(t.started) >= grace {
				age := d.sc.platform(time.Since(t.started))
				d.replaced = append(d.replaced, replacement{fmt.Sprintf("%s was stopped as unhealthy %.0f s after it started (%s)", t.name, age, ts.LastCheck), age})
				d.g.Progress(CheckHealthy, "ECS stops %s: the load balancer reports it unhealthy (%s)", t.name, ts.LastCheck)
				d.deregister(ctx, t)
				if t.gen == 1 {
					d.r.failures++
				}
			}
		case t.state == "draining" && ts.State == lbprobe.StateUnused:
			d.stop(ctx, t)
		}
	}
	if gen == 1 && d.st.Breaker && d.r.failures >= breakerThreshold(d.sc.DesiredCount) {
		if !d.st.Rollback {
			d.g.Progress(CheckHealthy, "the circuit breaker marks the deployment FAILED after %d failed tasks and stops launching new ones", d.r.failures)
			return outcomeFailed
		}
		d.g.Progress(CheckHealthy, "the circuit breaker marks the deployment FAILED after %d failed tasks: rolling back to the last completed deployment", d.r.failures)
		d.r.gen, d.r.rolledBack, gen = 0, true, 0
	}
	n := d.sc.DesiredCount
	live, fresh, healthy := 0, 0, 0
	for _, t := range d.tasks {
		if t.state != "stopped" {
			live++
		}
		if t.state == "running" && t.gen == gen {
			fresh++
		}
		if t.state == "running" && t.health == lbprobe.StateHealthy {
			healthy++
		}
	}
	capacity := n * d.st.MaxPercent / 100 // the cap rounds down
	if gen == 0 {
		capacity = n
	}
	for fresh < n && live < capacity {
		if !d.start(ctx, gen) {
			break
		}
		fresh++
		live++
	}
	floor := int(math.Ceil(float64(n*d.st.MinHealthy) / 100))
	for _, t := range d.tasks {
		if t.gen == gen || t.state != "running" {
			continue
		}
		if t.health == lbprobe.StateHealthy {
			if healthy-1 < floor {
				continue
			}
			healthy--
		}
		d.g.Progress(d.checks[1].ID, "ECS deregisters %s from the target group", t.name)
		d.deregister(ctx, t)
	}
	other, ready := 0, 0
	for _, t := range d.tasks {
		if t.gen != gen && t.state != "stopped" {
			other++
		}
		if t.gen == gen && t.state == "running" && t.health == lbprobe.StateHealthy {
			ready++
		}
	}
	switch {
	case other > 0 || ready < n:
		return ""
	case d.r.rolledBack:
		return outcomeRolledBack
	}
	return outcomeCompleted
}

// start launches a task and registers it, as ECS does once it runs.
func (d *deployment) start(ctx context.Context, gen int) bool {
	d.seq++
	t := &task{name: fmt.Sprintf("task-%d", d.seq), gen: gen, state: "running", health: lbprobe.StateInitial}
	startup := d.sc.real(d.sc.StartupSeconds)
	if gen == 1 && d.sc.NewRevisionFails {
		// The broken revision never gets ready: its health check answers
		// 503 for as long as it runs.
		startup = time.Hour
	}
	env := map[string]string{"PORT": strconv.Itoa(d.sc.ContainerPort), "STARTUP_DELAY": startup.String(), "WORKING_SET_MB": "8"}
	c, err := d.scope.Start(ctx, sandbox.ContainerSpec{Name: t.name, Cmd: []string{"api-worker"}, Env: env, Networks: []string{d.net}})
	if err != nil {
		d.g.Logf("%s could not be started: %v", t.name, err)
		return false
	}
	t.c, t.started = c, time.Now()
	d.tasks = append(d.tasks, t)
	addr := t.name + ":" + strconv.Itoa(d.sc.ContainerPort)
	if _, err := d.ctl(ctx, "/register?name="+url.QueryEscape(t.name)+"&addr="+url.QueryEscape(addr)); err != nil {
		d.g.Logf("%s could not be registered: %v", t.name, err)
	}
	d.g.Progress(d.checks[1].ID, "%s started (revision %d) and registered in the target group", t.name, gen+1)
	return true
}

func (d *deployment) deregister(ctx context.Context, t *task) {
	t.state = "draining"
	if _, err := d.ctl(ctx, "/deregister?name="+url.QueryEscape(t.name)); err != nil {
		d.g.Logf("%s could not be deregistered: %v", t.name, err)
	}
}

// stop sends SIGTERM, then SIGKILL after stopTimeout, once the target has
// drained.
func (d *deployment) stop(ctx context.Context, t *task) {
	t.state = "stopping"
	d.g.Progress(d.checks[1].ID, "%s drained: ECS sends SIGTERM (stopTimeout %d s)", t.name, d.st.StopTimeout)
	d.stops.Add(1)
	go func() {
		defer d.stops.Done()
		if err := t.c.Stop(ctx, d.sc.real(float64(d.st.StopTimeout))); err != nil {
			d.g.Logf("%s: %v", t.name, err)
		}
		d.mu.Lock()
		t.state = "stopped"
		d.mu.Unlock()
	}()
}

// finishTraffic stops the traffic and waits for the requests still in
// flight, so that every request sent has an outcome.
func (d *deployment) finishTraffic(ctx context.Context) (lbprobe.Status, error) {
	status, err := d.ctl(ctx, "/traffic?on=0")
	if err != nil {
		return status, err
	}
	deadline := time.Now().Add(d.sc.real(d.sc.LongRequestSeconds) + d.sc.real(float64(d.st.DeregDelay)) + 2*time.Second)
	for status.Counts.InFlight > 0 && time.Now().Before(deadline) {
		time.Sleep(tick)
		if status, err = d.ctl(ctx, "/status"); err != nil {
			return status, err
		}
	}
	return status, nil
}

func (d *deployment) names(gen int) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.runningNames(gen)
}

func (d *deployment) lastCheck(gen int) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range d.tasks {
		if t.gen == gen && t.check != "" {
			return t.check
		}
	}
	return "the health check"
}

func withResult(c grader.Check, status grader.CheckStatus, field, msg string) grader.Check {
	c.Status, c.Field, c.Message = status, field, msg
	if status == grader.CheckPass {
		c.Points = c.MaxPoints
	}
	return c
}

func (d *deployment) unhealthyCheck(began time.Time) grader.Check {
	runChecks := d.checks
	d.mu.Lock()
	defer d.mu.Unlock()
	waited := d.sc.platform(time.Since(began))
	more := ""
	if len(d.replaced) > 1 {
		more = fmt.Sprintf("; %d tasks were stopped this way", len(d.replaced))
	}
	// A task stopped before the app could have started points at the
	// grace period; one stopped later, still failing, at the check itself.
	if len(d.replaced) > 0 && d.replaced[0].age < d.sc.StartupSeconds+float64(d.st.Interval) {
		return withResult(runChecks[0], grader.CheckFail, "/healthCheckGracePeriodSeconds",
			fmt.Sprintf("no task lasted long enough to pass: %s%s. The app needs about %.0f s to start, and with a grace period of %d s ECS acts on the load balancer's verdict before then", d.replaced[0].text, more, d.sc.StartupSeconds, d.st.Grace))
	}
	last := "no health check answered"
	for _, t := range d.tasks {
		if t.check != "" {
			last = t.check
		}
	}
	if len(d.replaced) > 0 {
		last = d.replaced[0].text + more
	}
	return withResult(runChecks[0], grader.CheckFail, "/targetGroup/healthCheck",
		fmt.Sprintf("after %.0f s no task had passed the health check: %s; the matcher accepts %s. The app answers 200 on GET /healthz once it has started", waited, last, d.st.Matcher))
}

func (d *deployment) deployCheck(done bool, took float64) grader.Check {
	runChecks := d.checks
	if done {
		return withResult(runChecks[1], grader.CheckPass, "", fmt.Sprintf("%s replaced the old tasks in %.0f s (deadline %.0f s)", strings.Join(d.names(1), " and "), took, d.sc.DeployDeadlineSeconds))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var where []string
	field := "/targetGroup/deregistrationDelaySeconds"
	for _, t := range d.tasks {
		switch {
		case t.gen == 0 && (t.state == "draining" || t.state == "stopping"):
			where = append(where, t.name+" (old) was still draining")
		case t.gen == 0 && t.state == "running":
			where = append(where, t.name+" (old) was still serving")
		case t.gen == 1 && t.state == "running" && t.health != lbprobe.StateHealthy:
			where = append(where, fmt.Sprintf("%s (new) was %s: %s", t.name, t.health, t.check))
			field = "/targetGroup/healthCheck"
		}
	}
	sort.Strings(where)
	msg := fmt.Sprintf("after %.0f s the deployment had not finished: %s", d.sc.DeployDeadlineSeconds, strings.Join(where, "; "))
	if len(d.replaced) > 0 {
		msg += "; " + d.replaced[len(d.replaced)-1].text
		field = "/healthCheckGracePeriodSeconds"
	}
	if field == "/targetGroup/deregistrationDelaySeconds" {
		msg += fmt.Sprintf(". A deregistered task drains for the whole deregistration delay (%d s) before ECS stops it", d.st.DeregDelay)
	}
	return withResult(runChecks[1], grader.CheckFail, field, msg)
}

func (d *deployment) failedCheck(s lbprobe.Status, done bool) grader.Check {
	runChecks := d.checks
	c := s.Counts
	if c.Failed == 0 {
		if c.Sent == 0 {
			return withResult(runChecks[2], grader.CheckFail, "", "no request was sent: the load balancer had no traffic to route")
		}
		msg := fmt.Sprintf("all %d requests succeeded while the tasks were replaced", c.Sent)
		if !done {
			msg = fmt.Sprintf("all %d requests succeeded, but the deployment did not finish, so not every task was replaced under traffic", c.Sent)
			return withResult(runChecks[2], grader.CheckFail, "", msg)
		}
		return withResult(runChecks[2], grader.CheckPass, "", msg)
	}
	reasons := make([]string, 0, len(c.Reasons))
	for r, n := range c.Reasons {
		reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(reasons)
	field := ""
	switch {
	case c.Reasons[lbprobe.FailNoTarget] > 0:
		field = "/deploymentConfiguration/minimumHealthyPercent"
	case c.Reasons[lbprobe.FailCut] > 0:
		field = "/targetGroup/deregistrationDelaySeconds"
	}
	msg := fmt.Sprintf("%d of %d requests failed during the deployment: %s; the first: %s", c.Failed, c.Sent, strings.Join(reasons, ", "), c.FirstFailure)
	switch field {
	case "/deploymentConfiguration/minimumHealthyPercent":
		msg += fmt.Sprintf(". With minimumHealthyPercent %d, ECS may stop old tasks before new ones are healthy, and the load balancer is left with no healthy target", d.st.MinHealthy)
	case "/targetGroup/deregistrationDelaySeconds":
		msg += fmt.Sprintf(". The longest request takes %.0f s, but a deregistered task drains for only %d s before its connections are broken", d.sc.LongRequestSeconds, d.st.DeregDelay)
	}
	return withResult(runChecks[2], grader.CheckFail, field, msg)
}

func (d *deployment) rollbackCheck(outcome string, took float64) grader.Check {
	c := d.checks[1]
	d.mu.Lock()
	defer d.mu.Unlock()
	threshold := breakerThreshold(d.sc.DesiredCount)
	switch outcome {
	case outcomeRolledBack:
		return withResult(c, grader.CheckPass, "", fmt.Sprintf("the circuit breaker failed the deployment after %d failed tasks (threshold %d) and ECS rolled back to the last completed deployment in %.0f s; %s serve again",
			d.r.failures, threshold, took, strings.Join(d.runningNames(0), " and ")))
	case outcomeFailed:
		return withResult(c, grader.CheckFail, "/deploymentConfiguration/deploymentCircuitBreaker/rollback",
			fmt.Sprintf("the circuit breaker failed the deployment after %d failed tasks, but with rollback off ECS only stops launching tasks: the service is left on a failed deployment and nothing returns it to the last good one", d.r.failures))
	}
	msg := fmt.Sprintf("after %.0f s the deployment had neither completed nor rolled back: %d tasks of the new revision were stopped as unhealthy", d.sc.DeployDeadlineSeconds, d.r.failures)
	field := "/deploymentConfiguration/deploymentCircuitBreaker"
	switch {
	case !d.st.Breaker:
		msg += ", and without the circuit breaker ECS goes on replacing them for as long as the deployment lasts"
	case d.r.failures < threshold:
		msg += fmt.Sprintf(", fewer than the circuit breaker's threshold of %d", threshold)
		// A failing task counts once the load balancer has seen enough
		// failed checks and the grace period is over, whichever is later:
		// name the one that made it late. The static checks keep the
		// detection time above zero (interval >= 5, threshold >= 2).
		if detect := d.st.Interval * d.st.Unhealthy; d.st.Grace >= detect {
			msg += fmt.Sprintf(": with a grace period of %d s, each failing task is given that long before it counts", d.st.Grace)
			field = "/healthCheckGracePeriodSeconds"
		} else {
			msg += fmt.Sprintf(": the load balancer finds a task unhealthy only after %d failed checks %d s apart, about %d s, so each failing task takes that long to count", d.st.Unhealthy, d.st.Interval, detect)
			field = "/targetGroup/healthCheck"
		}
	}
	return withResult(c, grader.CheckFail, field, msg)
}

// runningNames lists the running tasks of a generation; d.mu is held.
func (d *deployment) runningNames(gen int) []string {
	var out []string
	for _, t := range d.tasks {
		if t.gen == gen && t.state == "running" {
			out = append(out, t.name)
		}
	}
	return out
}
