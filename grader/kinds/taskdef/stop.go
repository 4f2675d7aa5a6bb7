package taskdef

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

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
