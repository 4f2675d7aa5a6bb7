package taskdef

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
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
	client     *http.Client
}

func runTask(ctx context.Context, g *grader.Grading, td *TaskDefinition, sc *Scenario) error {
	r := &runner{g: g, td: td, sc: sc, containers: map[string]*sandbox.Container{}, recorded: map[string]bool{},
		client: &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}}
	r.appDef, r.appIndex = sc.app(td)
	if r.appIndex < 0 {
		r.skipRest(fmt.Sprintf("there is no container named %q to observe", sc.App.Name))
		return nil
	}
	scope, err := g.Containers(ctx)
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
			r.busy("run.port", fmt.Sprintf("this machine was too busy: the app did not answer on %s:%s", r.appIP, r.appPort), "")
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

// start plays the agent's part: pull (map to a lab), fetch secrets, create
// the task's network interface, start the containers in dependsOn order.
func (r *runner) start(ctx context.Context) bool {
	const id = "run.start"
	r.g.Running(id, "Starting the task")
	// The execution role is what pulls the image and fetches secrets.
	if want := r.sc.Roles.Execution; want != "" && r.td.ExecutionRoleArn != want {
		r.fail(id, finding{field: "/executionRoleArn",
			message:  fmt.Sprintf("CannotPullContainerError: the task's execution role %s may not pull from ECR (AccessDenied), so the task stopped before any container started", orAbsent(r.td.ExecutionRoleArn)),
			observed: "task stopped in PROVISIONING", expected: "executionRoleArn " + want,
			hint: "Image pulls, awslogs and secrets use the execution role, not the task role."})
		return false
	}
	type planned struct {
		def  ContainerDefinition
		idx  int
		spec sandbox.ContainerSpec
	}
	var plan []planned
	taskCPU, taskMem := int64(0), int64(0)
	if r.td.Cpu != nil {
		taskCPU, _ = ParseCPU(*r.td.Cpu)
	}
	if r.td.Memory != nil {
		taskMem, _ = ParseMemory(*r.td.Memory)
	}
	// The scope applies the server's caps; the defaults are what it reports.
	limits := sandbox.DefaultLimits
	for i, c := range r.td.ContainerDefinitions {
		repo, _, _ := splitImage(c.Image)
		lab, ok := r.sc.Images[repo]
		if !ok {
			r.fail(id, finding{field: cptr(i, "/image"),
				message:  fmt.Sprintf("CannotPullContainerError: pull image %s: repository %s not found: the task stopped before it started", grader.Clip(c.Image), grader.Clip(repo)),
				observed: "task stopped: CannotPullContainerError", expected: "an image from a repository that exists, such as " + r.sc.App.Repository})
			return false
		}
		env := map[string]string{}
		for _, e := range c.Environment {
			env[e.Name] = e.Value
		}
		for j, s := range c.Secrets {
			v, ok := r.lookupSecret(s.ValueFrom)
			if !ok {
				r.fail(id, finding{field: cptr(i, fmt.Sprintf("/secrets/%d/valueFrom", j)),
					message:  fmt.Sprintf("ResourceInitializationError: unable to pull secrets: the secret %s does not exist, so the task stopped before it started (ECS's exact wording may differ)", grader.Clip(s.ValueFrom)),
					observed: "task stopped: ResourceInitializationError", expected: "a secret that exists in Secrets Manager"})
				return false
			}
			env[s.Name] = v
		}
		// The lab's own settings: the compressed timings of the scenario.
		env["STARTUP_DELAY"] = r.scaled(r.sc.Startup.Duration).String()
		env["WORKING_SET_MB"] = strconv.Itoa(r.sc.WorkingSetMB)
		if len(r.sc.Secrets) > 0 {
			if v, ok := r.lookupSecret(r.sc.Secrets[0].ValueFrom); ok {
				sum := sha256.Sum256([]byte(v))
				env["EXPECT_DB_PASSWORD_SHA256"] = hex.EncodeToString(sum[:])
			}
		}
		mem := taskMem
		if c.Memory != nil && *c.Memory > 0 {
			mem = *c.Memory
		}
		if mem < 6 {
			mem = 6 // Docker's smallest limit
		}
		capped := false
		if mem > limits.MaxMemoryMB {
			mem, capped = limits.MaxMemoryMB, true
		}
		units := taskCPU
		if c.Cpu != nil && *c.Cpu > 0 {
			units = *c.Cpu
		}
		nano := units * 1e9 / 1024
		nano = min(max(nano, 5e7), limits.MaxNanoCPUs)
		spec := sandbox.ContainerSpec{Name: c.Name, Cmd: []string{lab}, Env: env, Networks: nil, MemoryMB: mem, NanoCPUs: nano}
		if h := c.HealthCheck; h != nil && len(h.Command) >= 2 {
			iv, to, re, sp := h.Effective()
			spec.Health = &sandbox.HealthCheck{Test: h.Command, Interval: r.secs(iv), Timeout: max(r.secs(to), minProbeTimeout),
				StartPeriod: r.secs(sp), Retries: int(re)}
		}
		if len(c.Command) > 0 || len(c.EntryPoint) > 0 {
			r.g.Logf("note: %s sets command or entryPoint; the lab %s runs its own program", c.Name, lab)
		}
		if i == r.appIndex {
			r.memLimit, r.memCapped = mem, capped
			r.appPort = "8080"
			if p := env["PORT"]; p != "" {
				r.appPort = p
			}
		}
		plan = append(plan, planned{def: c, idx: i, spec: spec})
	}

	nw, err := r.scope.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		r.busy(id, "the grader could not create the task's network: "+err.Error(), "")
		return false
	}
	r.net = nw
	r.g.Progress(id, "network interface ready")

	// Start in dependsOn order: a container starts once every dependency
	// meets its condition. Independent containers start together.
	started := map[string]bool{}
	deadline := time.Now().Add(r.healthDeadline() + 10*time.Second)
	for len(started) < len(plan) {
		var ready []planned
		for _, p := range plan {
			if started[p.def.Name] {
				continue
			}
			ok, why := r.depsMet(ctx, p.def, started)
			if why != "" {
				r.fail(id, finding{field: cptr(p.idx, "/dependsOn"), message: why, observed: p.def.Name + " was never started"})
				return false
			}
			if ok {
				ready = append(ready, p)
			}
		}
		if len(ready) == 0 {
			if time.Now().After(deadline) || ctx.Err() != nil {
				r.fail(id, finding{field: "/containerDefinitions", message: "some containers waited for dependencies that never met their condition, so they never started"})
				return false
			}
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		var wg sync.WaitGroup
		errs := make([]error, len(ready))
		for k, p := range ready {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.spec.Networks = []string{nw.Name}
				c, err := r.scope.Start(ctx, p.spec)
				if err != nil {
					errs[k] = err
					return
				}
				r.g.Progress(id, "container %s started", p.def.Name)
				r.mu.Lock()
				r.containers[p.def.Name] = c
				r.mu.Unlock()
			}()
		}
		wg.Wait()
		for k, p := range ready {
			if errs[k] != nil {
				if ctx.Err() != nil {
					return false
				}
				r.busy(id, fmt.Sprintf("the grader could not start container %s: %v", p.def.Name, errs[k]), "")
				return false
			}
			started[p.def.Name] = true
		}
	}
	r.app = r.containers[r.appDef.Name]
	ip, err := r.app.IP(ctx, nw.Name)
	if err != nil {
		// A container that already exited (killed for memory at start-up,
		// say) has no address any more; the health watch reports why.
		if st, serr := r.app.State(ctx); serr == nil && !st.Running {
			r.pass(id, fmt.Sprintf("%d container(s) started, but the app stopped right away", len(plan)), "task RUNNING, then app STOPPED")
			return true
		}
		r.busy(id, "the grader could not read the app's address: "+err.Error(), "")
		return false
	}
	r.appIP = ip
	r.g.Progress(id, "task ENI → %s", ip)
	mem := fmt.Sprintf("%d MiB", r.memLimit)
	if r.memCapped {
		mem += fmt.Sprintf(" (capped by the grader at %d MiB)", limits.MaxMemoryMB)
	}
	r.pass(id, fmt.Sprintf("%d container(s) started on the task's network; the app got %s with a memory limit of %s; time runs %g× faster than on ECS",
		len(plan), ip, mem, r.sc.TimeScale), "task RUNNING")
	return true
}

// lookupSecret resolves a valueFrom in the simulated Secrets Manager,
// including a json-key suffix.
func (r *runner) lookupSecret(valueFrom string) (string, bool) {
	if v, ok := r.sc.SecretsManager[valueFrom]; ok {
		return v, true
	}
	v, ok := r.sc.SecretsManager[baseARN(valueFrom)]
	if !ok {
		return "", false
	}
	parts := strings.Split(valueFrom, ":")
	if len(parts) > 7 && parts[7] != "" {
		var m map[string]any
		if json.Unmarshal([]byte(v), &m) != nil {
			return "", false
		}
		s, ok := m[parts[7]].(string)
		return s, ok
	}
	return v, true
}

// depsMet says whether c's dependencies meet their conditions now, or why
// they never will.
func (r *runner) depsMet(ctx context.Context, c ContainerDefinition, started map[string]bool) (bool, string) {
	for _, d := range c.DependsOn {
		if !started[d.ContainerName] {
			return false, ""
		}
		r.mu.Lock()
		dep := r.containers[d.ContainerName]
		r.mu.Unlock()
		st, err := dep.State(ctx)
		if err != nil {
			return false, ""
		}
		switch d.Condition {
		case "HEALTHY":
			if st.Health == "unhealthy" || !st.Running {
				return false, fmt.Sprintf("%s waits for %s to be HEALTHY, but %s became %s", c.Name, d.ContainerName, d.ContainerName, orAbsent(st.Health+" "+st.Status))
			}
			if st.Health != "healthy" {
				return false, ""
			}
		case "COMPLETE", "SUCCESS":
			if st.Running {
				return false, ""
			}
			if d.Condition == "SUCCESS" && st.ExitCode != 0 {
				return false, fmt.Sprintf("%s waits for %s to succeed, but it exited with code %d", c.Name, d.ContainerName, st.ExitCode)
			}
		}
	}
	return true, ""
}

// healthDeadline is how long the app's health check may take to decide.
func (r *runner) healthDeadline() time.Duration {
	d := r.scaled(r.sc.Startup.Duration)
	if h := r.appDef.HealthCheck; h != nil {
		iv, to, re, sp := h.Effective()
		d = max(d, r.secs(sp)) + time.Duration(re+1)*r.secs(iv) + max(r.secs(to), minProbeTimeout)
	}
	return min(d+3*time.Second, 30*time.Second)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// healthy watches the app's health check until it decides. It returns
// whether the app container is still running.
func (r *runner) healthy(ctx context.Context) bool {
	const id = "run.healthy"
	r.g.Running(id, "Waiting for the health check")
	h := r.appDef.HealthCheck
	began := time.Now()
	deadline := began.Add(r.healthDeadline())
	seen := map[time.Time]bool{}
	var outputs []string
	retries := int64(DefaultRetries)
	if h != nil {
		_, _, retries, _ = h.Effective()
	}
	taskTime := func(d time.Duration) string {
		return fmt.Sprintf("%.1f s (%.0f s of task time)", d.Seconds(), d.Seconds()*r.sc.TimeScale)
	}
	for {
		st, err := r.app.State(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			r.busy(id, "the grader could not inspect the app container: "+err.Error(), "")
			return false
		}
		for _, hr := range st.HealthLog {
			if !seen[hr.Start] {
				seen[hr.Start] = true
				out := firstLine(hr.Output)
				outputs = append(outputs, fmt.Sprintf("exit %d: %s", hr.ExitCode, out))
				r.g.Progress(id, "health check %d → exit %d %s", len(outputs), hr.ExitCode, out)
			}
		}
		if !st.Running {
			return r.appExited(id, st)
		}
		if r.essentialExited(ctx, id) {
			return false
		}
		// Time since the container started, which is what the health
		// check's start period and the app's start-up count from.
		elapsed := time.Since(began)
		if !st.StartedAt.IsZero() && st.StartedAt.Before(time.Now()) {
			elapsed = time.Since(st.StartedAt)
		}
		switch {
		case h == nil:
			if r.get(ctx, r.appPort, r.sc.Health.Path) == 200 {
				r.fail(id, finding{field: cptr(r.appIndex, "/healthCheck"), message: "the app started, but without a health check ECS reports its health as UNKNOWN and cannot replace it when it hangs",
					observed: "no health check", expected: "a health check on " + r.sc.Health.Path})
				return true
			}
		case (st.Health == "unhealthy" || int64(st.FailingStreak) >= retries) && allTimedOut(st.HealthLog, int(retries)):
			// The probes never ran to the end: the machine was too busy to
			// say anything about the student's health check.
			r.busy(id, "this machine was too busy to run the health check in time, so its outcome says nothing about your task definition", lastN(outputs, 3))
			r.waitStarted(ctx)
			return true
		case (st.Health == "unhealthy" || int64(st.FailingStreak) >= retries) && r.startedLate(ctx, st.StartedAt, streakStart(st.HealthLog, int(retries))):
			// The app started late, so these failures may be the machine's.
			// A check that runs to the end after the app is ready decides:
			// failing then, it fails on its own account.
			for time.Now().Before(deadline) && ctx.Err() == nil {
				sleep(ctx, 200*time.Millisecond)
				st2, err := r.app.State(ctx)
				if err != nil || !st2.Running {
					break
				}
				if r.failedAfterReady(ctx, st2.HealthLog) {
					r.fail(id, finding{field: cptr(r.appIndex, "/healthCheck"),
						message:  fmt.Sprintf("the health check marked the app unhealthy and kept failing after the app had started; ECS would stop this task and start another, over and over"),
						observed: lastHealth(st2.HealthLog, 3), expected: "healthy once the app has started",
						hint: "Check the port and path of the command."})
					r.waitStarted(ctx)
					return true
				}
			}
			r.busy(id, fmt.Sprintf("this machine was too busy: the app, which starts in %s here, had not started after %.1f s, so the health check's verdict says nothing about your task definition",
				r.scaled(r.sc.Startup.Duration), elapsed.Seconds()), lastN(outputs, 3))
			r.waitStarted(ctx)
			return true
		case st.Health == "unhealthy" || int64(st.FailingStreak) >= retries:
			r.fail(id, finding{field: cptr(r.appIndex, "/healthCheck"),
				message: fmt.Sprintf("the health check marked the app unhealthy after %s: %d failure(s) in a row with retries %d; ECS would stop this task and start another, over and over",
					taskTime(elapsed), st.FailingStreak, retries),
				observed: lastN(outputs, 3), expected: "healthy once the app has started (it needs up to " + r.sc.Startup.String() + ")",
				hint: "Check the port and path of the command, and give the app a startPeriod longer than its start-up."})
			r.waitStarted(ctx)
			return true
		case st.Health == "healthy":
			r.pass(id, fmt.Sprintf("healthy after %s", taskTime(elapsed)), lastN(outputs, 2))
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if ctx.Err() != nil {
				return false
			}
			if r.startedLate(ctx, st.StartedAt, time.Now()) {
				// Not started at all: a kill for memory may be under way.
				if r.waitExit(ctx, id, 5*time.Second) {
					return false
				}
				r.busy(id, fmt.Sprintf("this machine was too busy: the app, which starts in %s here, had not started after %.1f s",
					r.scaled(r.sc.Startup.Duration), elapsed.Seconds()), "")
				return true
			}
			if !r.failedAfterReady(ctx, st.HealthLog) {
				r.busy(id, fmt.Sprintf("this machine was too busy: no health check finished after the app had started (%.1f s in)", elapsed.Seconds()), lastN(outputs, 3))
				return true
			}
			r.fail(id, finding{field: cptr(r.appIndex, "/healthCheck"), message: fmt.Sprintf("the app was still not healthy after %s", taskTime(elapsed)),
				observed: orAbsent(lastN(outputs, 3)), expected: "healthy once the app has started"})
			r.waitStarted(ctx)
			return true
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// startedLate reports whether the app started late (it is due within its
// scaled start-up) and was not yet ready at since, the start of the failures
// being judged: those failures then measure the busy machine, not the task
// definition.
func (r *runner) startedLate(ctx context.Context, started, since time.Time) bool {
	due := r.scaled(r.sc.Startup.Duration) + 500*time.Millisecond
	readyAt, ok := r.readyAt(ctx)
	switch {
	case started.IsZero():
		return false
	case !ok:
		return time.Since(started) > due
	case readyAt.Sub(started) <= due:
		return false
	}
	return readyAt.After(since)
}

// waitExit watches the app for up to wait and, if it exits (a kill for
// memory, say), records why and reports true.
func (r *runner) waitExit(ctx context.Context, id string, wait time.Duration) bool {
	end := time.Now().Add(wait)
	for time.Now().Before(end) && ctx.Err() == nil {
		st, err := r.app.State(ctx)
		if err == nil && !st.Running {
			r.appExited(id, st)
			return true
		}
		sleep(ctx, 200*time.Millisecond)
	}
	return false
}

// failedAfterReady reports whether a health check that started after the
// app was ready ran to the end and failed: a verdict on the command itself.
func (r *runner) failedAfterReady(ctx context.Context, log []sandbox.HealthResult) bool {
	readyAt, ok := r.readyAt(ctx)
	if !ok {
		return false
	}
	for _, hr := range log {
		if hr.Start.After(readyAt) && hr.ExitCode != 0 && !probeTimedOut(hr.Output) {
			return true
		}
	}
	return false
}

// readyAt reads from the app's log when it finished starting.
func (r *runner) readyAt(ctx context.Context) (time.Time, bool) {
	logs, err := r.app.Logs(ctx)
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `"msg":"ready"`) {
			continue
		}
		var entry struct {
			Time time.Time `json:"time"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil {
			return entry.Time, true
		}
	}
	return time.Time{}, false
}

// streakStart is when the failing streak that is being judged began.
func streakStart(log []sandbox.HealthResult, n int) time.Time {
	if len(log) == 0 {
		return time.Now()
	}
	i := max(len(log)-max(n, 1), 0)
	return log[i].Start
}

// waitStarted waits until the app answers /healthz itself, so that the
// checks after a failed health check still see a started app.
func (r *runner) waitStarted(ctx context.Context) {
	end := time.Now().Add(r.scaled(r.sc.Startup.Duration) + 3*time.Second)
	for time.Now().Before(end) && ctx.Err() == nil {
		if r.get(ctx, r.appPort, r.sc.Health.Path) == 200 {
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func (r *runner) appExited(id string, st sandbox.State) bool {
	if st.OOMKilled {
		f := finding{field: cptr(r.appIndex, "/memory"),
			message:  fmt.Sprintf("the app was OOM-killed at its %d MiB limit: it needs about %d MiB", r.memLimit, r.sc.WorkingSetMB),
			observed: fmt.Sprintf("OOMKilled, exit code %d", st.ExitCode), expected: fmt.Sprintf("a limit comfortably above %d MiB", r.sc.WorkingSetMB),
			hint: "Container memory is a hard limit; leave it out to let the app use the task's memory."}
		r.fail(id, f)
		r.fail("run.memory", f)
		return false
	}
	r.fail(id, finding{field: cptr(r.appIndex, ""), message: fmt.Sprintf("the app container exited with code %d before it became healthy", st.ExitCode),
		observed: "exit code " + strconv.Itoa(st.ExitCode)})
	return false
}

// essentialExited reports (and records) an essential container other than
// the app that stopped: ECS stops the whole task then.
func (r *runner) essentialExited(ctx context.Context, id string) bool {
	for i, c := range r.td.ContainerDefinitions {
		if i == r.appIndex || !c.IsEssential() {
			continue
		}
		r.mu.Lock()
		ctr := r.containers[c.Name]
		r.mu.Unlock()
		if ctr == nil {
			continue
		}
		st, err := ctr.State(ctx)
		if err == nil && !st.Running {
			r.fail(id, finding{field: cptr(i, "/essential"), message: fmt.Sprintf("essential container %s exited (code %d), so ECS stopped the whole task", c.Name, st.ExitCode),
				observed: "task STOPPED: essential container exited", expected: "the task keeps running", hint: "Mark sidecars essential: false."})
			return true
		}
	}
	return false
}

func (r *runner) url(port, path string) string {
	return "http://" + net.JoinHostPort(r.appIP, port) + path
}

// get requests a path on the app from the host and returns the status, or 0.
func (r *runner) get(ctx context.Context, port, path string) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url(port, path), nil)
	if err != nil {
		return 0
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode
}

func (r *runner) port(ctx context.Context) {
	const id = "run.port"
	r.g.Running(id, "Requesting the app on its mapped port")
	var ports []int64
	for _, p := range r.appDef.PortMappings {
		if p.ContainerPort != nil {
			ports = append(ports, *p.ContainerPort)
		}
	}
	if len(ports) == 0 {
		r.fail(id, finding{field: cptr(r.appIndex, "/portMappings"), message: "the app container maps no port, so a load balancer target group could not send it traffic",
			expected: fmt.Sprintf("containerPort %d", r.sc.App.Port)})
		return
	}
	var tried []string
	for _, p := range ports {
		port := strconv.FormatInt(p, 10)
		began := time.Now()
		var code int
		for attempt := 0; attempt < 3 && code == 0; attempt++ {
			if code = r.get(ctx, port, r.sc.Health.Path); code == 0 {
				sleep(ctx, 200*time.Millisecond)
			}
		}
		if code != 0 {
			r.pass(id, fmt.Sprintf("GET %s answered %d in %d ms", r.url(port, r.sc.Health.Path), code, time.Since(began).Milliseconds()), "HTTP "+strconv.Itoa(code))
			return
		}
		tried = append(tried, port)
	}
	r.fail(id, finding{field: cptr(r.appIndex, "/portMappings/0/containerPort"),
		message:  fmt.Sprintf("nothing answered at %s on port %s, the port(s) you mapped; the app listens on %s", r.appIP, strings.Join(tried, ", "), r.appPort),
		observed: "connection refused on " + strings.Join(tried, ", "), expected: "containerPort " + r.appPort})
}

func (r *runner) secret(ctx context.Context) {
	const id = "run.secret"
	if len(r.sc.Secrets) == 0 {
		r.record(grader.Check{ID: id, Status: grader.CheckSkip, Message: "this scenario has no secret"})
		return
	}
	r.g.Running(id, "Asking the app whether it got its password")
	name := r.sc.Secrets[0].Name
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, r.url(r.appPort, "/secret"), nil)
	resp, err := r.client.Do(req)
	if err != nil {
		r.fail(id, finding{message: "the app did not answer when asked about " + name, observed: err.Error()})
		return
	}
	defer resp.Body.Close()
	var body struct {
		DBPassword string `json:"dbPassword"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body); err != nil {
		r.fail(id, finding{message: "the app's answer about " + name + " could not be read", observed: err.Error()})
		return
	}
	switch body.DBPassword {
	case "ok":
		r.pass(id, name+" holds the secret's value", name+" ok")
	case "missing":
		r.fail(id, finding{field: cptr(r.appIndex, "/secrets"), message: "the app started without " + name + ", so it cannot reach its database",
			observed: name + " not set", expected: name + " from " + r.sc.Secrets[0].ValueFrom})
	default:
		r.fail(id, finding{field: cptr(r.appIndex, "/secrets"), message: name + " holds a value other than the secret's: the app cannot log in to its database",
			observed: name + " is set, but wrong", expected: name + " from " + r.sc.Secrets[0].ValueFrom})
	}
}

// memory checks that the app was not killed for memory, watching for up to
// wait in case a kill is under way.
func (r *runner) memory(ctx context.Context, wait time.Duration) {
	const id = "run.memory"
	end := time.Now().Add(wait)
	for {
		st, err := r.app.State(ctx)
		if err != nil {
			r.busy(id, "the grader could not inspect the app container: "+err.Error(), "")
			return
		}
		if st.OOMKilled || !st.Running {
			r.appExited(id, st)
			return
		}
		if time.Now().After(end) || ctx.Err() != nil {
			break
		}
		sleep(ctx, 200*time.Millisecond)
	}
	r.pass(id, fmt.Sprintf("the app holds its working set of %d MiB within its %d MiB limit", r.sc.WorkingSetMB, r.memLimit), "running, not OOM-killed")
}

func (r *runner) healthCommand(ctx context.Context) {
	const id = "run.health-command"
	h := r.appDef.HealthCheck
	if h == nil || len(h.Command) < 2 {
		r.record(grader.Check{ID: id, Status: grader.CheckSkip, Message: "the app container has no health check"})
		return
	}
	r.g.Running(id, "Running the health check while /healthz fails")
	if err := r.control(ctx, true); err != nil {
		r.busy(id, "the grader could not make the app report failure: "+err.Error(), "")
		return
	}
	cmd := h.Command[1:]
	if h.Command[0] == "CMD-SHELL" {
		cmd = []string{"/bin/sh", "-c", strings.Join(h.Command[1:], " ")}
	}
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	code, out, err := r.app.Exec(ectx, cmd)
	cancel()
	if cerr := r.control(ctx, false); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		r.busy(id, "the grader could not run the health check: "+err.Error(), "")
		return
	}
	out = firstLine(strings.TrimSpace(out))
	if code == 0 {
		r.fail(id, finding{field: cptr(r.appIndex, "/healthCheck/command"),
			message:  "while " + r.sc.Health.Path + " answered 503, the health check still exited 0: ECS would keep a broken app in service",
			observed: fmt.Sprintf("exit 0 %s", out), expected: "a non-zero exit when " + r.sc.Health.Path + " fails",
			hint: "curl needs -f (--fail) to exit non-zero on an HTTP error; wget fails on one by itself."})
		return
	}
	r.pass(id, fmt.Sprintf("with %s answering 503, the health check exited %d", r.sc.Health.Path, code), orAbsent(out))
}

// control makes the app's /healthz fail or recover.
func (r *runner) control(ctx context.Context, failing bool) error {
	v := "0"
	if failing {
		v = "1"
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodPost, r.url(r.appPort, "/control/health?fail="+v), nil)
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// gracefulStop stops the task with a slow request in flight: ECS sends
// SIGTERM, waits stopTimeout, then SIGKILL.
func (r *runner) gracefulStop(ctx context.Context) {
	const id = "run.graceful-stop"
	r.g.Running(id, "Stopping the task with a request in flight")
	// The request needs three quarters of the worst-case drain: a stop
	// timeout that covers the drain covers it with room to spare, and one
	// well short of the drain cuts it off.
	work := r.scaled(r.sc.Drain.Duration * 3 / 4)
	type outcome struct {
		started bool
		body    string
		err     error
	}
	inflight := make(chan struct{})
	done := make(chan outcome, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, work+20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(cctx, http.MethodGet, r.url(r.appPort, fmt.Sprintf("/work?ms=%d", work.Milliseconds())), nil)
		resp, err := r.client.Do(req)
		if err != nil {
			close(inflight)
			done <- outcome{err: err}
			return
		}
		defer resp.Body.Close()
		close(inflight)
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		done <- outcome{started: resp.StatusCode == 200, body: string(b), err: err}
	}()
	select {
	case <-inflight:
	case <-ctx.Done():
		return
	}
	stopTimeout := r.appDef.EffectiveStopTimeout()
	// Docker counts stop timeouts in whole seconds: the compressed timeout
	// is rounded down, never in the student's favour.
	scaled := r.secs(stopTimeout).Truncate(time.Second)
	began := time.Now()
	if err := r.app.Stop(ctx, scaled); err != nil {
		if ctx.Err() != nil {
			return
		}
		r.busy(id, "the grader could not stop the task: "+err.Error(), "")
		return
	}
	took := time.Since(began)
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		return
	}
	st, _ := r.app.State(ctx)
	src := fmt.Sprintf("stopTimeout %d s", stopTimeout)
	if r.appDef.StopTimeout == nil {
		src += " (Fargate's default)"
	}
	setting := fmt.Sprintf("%s, %g s here", src, scaled.Seconds())
	workDesc := fmt.Sprintf("a request needing %.0f s of work (%.1f s here)", work.Seconds()*r.sc.TimeScale, work.Seconds())
	completed := o.err == nil && o.started && strings.Contains(o.body, `"done":true`)
	const slack = time.Second
	switch {
	case completed && st.ExitCode == 0 && took > scaled+slack && scaled+slack < work:
		// SIGKILL was due long before the drain could end, yet the app
		// drained: the engine delivered the kill late.
		r.busy(id, fmt.Sprintf("this machine was too busy to stop the task on time (SIGKILL was due %.1f s after SIGTERM; the app was still running after %.1f s), so the outcome says nothing about your task definition", scaled.Seconds(), took.Seconds()),
			fmt.Sprintf("exit code 0 after %.1f s", took.Seconds()))
		return
	case !completed && scaled >= work+slack:
		// The stop timeout left the app a second more than the work
		// needs, and still the work did not finish: the app was starved.
		r.busy(id, fmt.Sprintf("this machine was too busy for the app to finish %.1f s of work within %.1f s, so the outcome says nothing about your task definition", work.Seconds(), scaled.Seconds()),
			fmt.Sprintf("exit code %d after %.1f s", st.ExitCode, took.Seconds()))
		return
	}
	if completed && st.ExitCode == 0 {
		r.pass(id, fmt.Sprintf("with %s, %s completed after SIGTERM and the app exited 0 after draining, %.1f s after SIGTERM", setting, workDesc, took.Seconds()),
			"request completed; exit code 0")
		return
	}
	observed := fmt.Sprintf("exit code %d after %.1f s; the request was cut off", st.ExitCode, took.Seconds())
	if completed {
		observed = fmt.Sprintf("the request completed, but the app exited with code %d", st.ExitCode)
	}
	r.fail(id, finding{field: cptr(r.appIndex, "/stopTimeout"),
		message: fmt.Sprintf("with %s, SIGKILL came before the app finished draining: %s was cut off. The app needs up to %s to drain",
			setting, workDesc, r.sc.Drain.String()),
		observed: observed, expected: fmt.Sprintf("stopTimeout of at least %.0f s", r.sc.Drain.Seconds()),
		hint: "stopTimeout is the time between SIGTERM and SIGKILL; Fargate allows up to 120 s."})
}

// collectLogs adds the end of each container's output to the grading log.
func (r *runner) collectLogs(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, c := range r.td.ContainerDefinitions {
		r.mu.Lock()
		ctr := r.containers[c.Name]
		r.mu.Unlock()
		if ctr == nil {
			continue
		}
		logs, err := ctr.Logs(ctx)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
			if line != "" {
				r.g.Logf("%s | %s", c.Name, line)
			}
		}
	}
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

// allTimedOut reports whether the last n probes all timed out in Docker.
func allTimedOut(log []sandbox.HealthResult, n int) bool {
	if n <= 0 || len(log) < n {
		n = len(log)
	}
	if n == 0 {
		return false
	}
	for _, hr := range log[len(log)-n:] {
		if !probeTimedOut(hr.Output) {
			return false
		}
	}
	return true
}

func lastHealth(log []sandbox.HealthResult, n int) string {
	var out []string
	for _, hr := range log {
		out = append(out, fmt.Sprintf("exit %d: %s", hr.ExitCode, firstLine(hr.Output)))
	}
	return lastN(out, n)
}
