package taskdef

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"coldstart/grader/sandbox"
)

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
			r.busy(id, timedOutMessage(st.HealthLog, int(retries)), lastN(outputs, 3))
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

// timedOutMessage says what allTimedOut saw: the engine's own words for the
// last check and how many in a row it stopped.
func timedOutMessage(log []sandbox.HealthResult, n int) string {
	if n <= 0 || len(log) < n {
		n = len(log)
	}
	last := ""
	if len(log) > 0 {
		last = firstLine(log[len(log)-1].Output)
	}
	return fmt.Sprintf("the engine stopped each of the last %d health checks at its timeout before the command itself finished (%q): the machine was too slow to run them, so their outcome says nothing about your task definition", n, last)
}

func lastHealth(log []sandbox.HealthResult, n int) string {
	var out []string
	for _, hr := range log {
		out = append(out, fmt.Sprintf("exit %d: %s", hr.ExitCode, firstLine(hr.Output)))
	}
	return lastN(out, n)
}
