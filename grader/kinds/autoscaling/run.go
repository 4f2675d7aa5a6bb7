package autoscaling

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"coldstart/grader"
	"coldstart/grader/sandbox"
)

// Run check ids.
const (
	CheckLatency     = "as.latency"
	CheckTaskSeconds = "as.task-seconds"
)

func runChecks(sc *Scenario) []grader.Check {
	return []grader.Check{
		{ID: CheckLatency, Title: fmt.Sprintf("At most %g%% of the day's requests take longer than %d ms", sc.Latency.MaxSlowPercent, sc.Latency.ThresholdMs), Phase: grader.PhaseRun, MaxPoints: 3},
		{ID: CheckTaskSeconds, Title: fmt.Sprintf("The day costs at most %s task-seconds", num(sc.Budget.TaskSeconds)), Phase: grader.PhaseRun, MaxPoints: 2},
	}
}

const taskPort = 8080

// playDay starts the pool of tasks, plays the day and records the run
// checks.
func playDay(ctx context.Context, g *grader.Grading, sc *Scenario, st Settings) error {
	scope, err := sandbox.Open(ctx, g)
	if err != nil {
		return err
	}
	g.Running(CheckLatency, "Starting the service's tasks")
	nw, err := scope.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		return fmt.Errorf("the grading's network could not be created: %w", err)
	}
	scope.WarmRelay(ctx, nw)
	dial := scope.Dialer(nw)
	tr := &http.Transport{Proxy: nil, DialContext: dial, MaxIdleConns: 256, MaxIdleConnsPerHost: 64,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	defer tr.CloseIdleConnections()
	n := min(st.Max, sc.Trial.TaskCap)
	pool, err := startPool(ctx, g, scope, nw, sc, n, tr)
	if err != nil {
		return err
	}
	g.Running(CheckLatency, fmt.Sprintf("Playing %.0f minutes of traffic in %.0f s", sc.Minutes(), sc.Played().Seconds()))
	trial := &Trial{Scenario: sc, Settings: st, Pool: pool, Transport: tr, Progress: func(format string, args ...any) {
		g.Progress(CheckLatency, format, args...)
		g.Logf(format, args...)
	}}
	rep, err := trial.Run(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the day could not be played: %w", err)
	}
	g.Logf("%d requests, %d slow or failed (%d failed, %d slow inside the tasks); p50 %s, p95 %s, p99 %s; %s task-seconds; peak %d tasks; median time of a request that found a free slot %s",
		rep.Requests, rep.Slow, rep.Failed, rep.SlowInTask, ms(rep.P50), ms(rep.P95), ms(rep.P99), num(rep.TaskSeconds), rep.Peak, ms(rep.FreeSlotMedian))
	run := runChecks(sc)
	latency := latencyCheck(run[0], rep, sc, st)
	if latency.Status == grader.CheckError {
		g.Unobserved(latency)
	} else {
		g.Add(latency)
	}
	g.Add(costCheck(run[1], rep, sc, st, latency.Status == grader.CheckPass))
	return nil
}

// startPool starts n run-worker containers and waits until each answers.
func startPool(ctx context.Context, g *grader.Grading, scope *sandbox.Scope, nw *sandbox.Network, sc *Scenario, n int, tr http.RoundTripper) ([]string, error) {
	env := map[string]string{"PORT": strconv.Itoa(taskPort), "PARALLELISM": strconv.Itoa(sc.App.Parallelism), "WORK_MS": strconv.Itoa(sc.App.WorkMs)}
	addrs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("task-%d", i+1)
			c, err := scope.Start(ctx, sandbox.ContainerSpec{Name: name, Cmd: []string{"run-worker"}, Env: env, Networks: []string{nw.Name}, MemoryMB: sc.Trial.TaskMemoryMB})
			if err != nil {
				errs[i] = err
				return
			}
			ip, err := c.IP(ctx, nw.Name)
			if err != nil {
				errs[i] = err
				return
			}
			addrs[i] = net.JoinHostPort(ip, strconv.Itoa(taskPort))
			errs[i] = waitHealthy(ctx, tr, addrs[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("task %d of the pool could not start: %w", i+1, err)
		}
	}
	g.Progress(CheckLatency, "%d tasks started and answering; the service begins the day with its desired count in service", n)
	return addrs, nil
}

func waitHealthy(ctx context.Context, tr http.RoundTripper, addr string) error {
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz answered %d", resp.StatusCode)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("it did not answer within 20 s: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ms(d time.Duration) string {
	if d > time.Hour {
		return "unanswered"
	}
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func num(f float64) string { return strconv.FormatFloat(float64(int64(f+0.5)), 'f', -1, 64) }

const cfgField = "/PutScalingPolicy/TargetTrackingScalingPolicyConfiguration"

func withStatus(c grader.Check, status grader.CheckStatus, field, msg string) grader.Check {
	c.Status, c.Field, c.Message = status, field, msg
	if status == grader.CheckPass {
		c.Points = c.MaxPoints
	}
	return c
}

// timeline sums up the scaling decisions.
func timeline(rep *Report) string {
	if len(rep.Decisions) == 0 {
		return "the desired count never changed"
	}
	parts := make([]string, 0, len(rep.Decisions))
	for _, d := range rep.Decisions {
		parts = append(parts, d.String())
	}
	if len(parts) > 6 {
		parts = append(parts[:3], append([]string{"…"}, parts[len(parts)-2:]...)...)
	}
	return "scaling: " + strings.Join(parts, ", ")
}

func latencyCheck(c grader.Check, rep *Report, sc *Scenario, st Settings) grader.Check {
	share := rep.SlowPercent()
	c.Observed = fmt.Sprintf("%.1f%% of %d requests over %d ms (p50 %s, p95 %s, p99 %s); peak %d tasks", share, rep.Requests, sc.Latency.ThresholdMs, ms(rep.P50), ms(rep.P95), ms(rep.P99), rep.Peak)
	c.Expected = fmt.Sprintf("at most %g%% over %d ms", sc.Latency.MaxSlowPercent, sc.Latency.ThresholdMs)
	if share <= sc.Latency.MaxSlowPercent {
		return withStatus(c, grader.CheckPass, "", fmt.Sprintf("%.1f%% of the requests were slow; the service grew to %d tasks and kept up (%s)", share, rep.Peak, timeline(rep)))
	}
	work := time.Duration(sc.App.WorkMs) * time.Millisecond
	if rep.FreeSlotMedian > work+max(work, 100*time.Millisecond) {
		return withStatus(c, grader.CheckError, "", fmt.Sprintf("%.1f%% of the requests were slow, but even a request that found a free slot took %s for %s of work: the machine running the trial was too busy to judge", share, ms(rep.FreeSlotMedian), ms(work)))
	}
	// A policy makes requests slow by leaving them in a task's queue. When
	// the requests that waited there are few enough to pass, the rest were
	// slowed on their way through this machine, which says nothing of the
	// policy.
	if inTask := 100 * float64(rep.SlowInTask) / float64(max(rep.Requests, 1)); inTask <= sc.Latency.MaxSlowPercent {
		return withStatus(c, grader.CheckError, "", fmt.Sprintf("%.1f%% of the requests were slow, but only %.1f%% were slow inside the tasks (waiting for a slot or failing); the other %d took longer only on their way between the grader and the tasks: the machine running the trial was too busy to judge", share, inTask, rep.Slow-rep.SlowInTask))
	}
	slow := fmt.Sprintf("%.1f%% of the requests took longer than %d ms (%d of %d, from minute %.0f to %.0f)", share, sc.Latency.ThresholdMs, rep.Slow, rep.Requests, rep.SlowFrom, rep.SlowTo)
	need := peakNeed(sc, st)
	switch {
	case st.Metric == MetricMemory:
		return withStatus(c, grader.CheckFail, cfgField+"/PredefinedMetricSpecification/PredefinedMetricType",
			fmt.Sprintf("%s. The policy tracks memory, but this app's memory stays at %g%% whatever the load, so the metric never crossed the target %g and the service stayed at %d tasks while CPU ran out (%s)", slow, sc.App.MemoryPercent, st.Target, rep.Peak, timeline(rep)))
	case rep.AtMaxOver >= 2:
		return withStatus(c, grader.CheckFail, "/RegisterScalableTarget/MaxCapacity",
			fmt.Sprintf("%s. For %d minutes the service sat at its MaxCapacity of %d tasks with the metric above its target; the peak needs about %d tasks at the target (%s)", slow, rep.AtMaxOver, st.Max, need, timeline(rep)))
	case rep.Blocked >= 2 && st.OutCooldown > 120:
		return withStatus(c, grader.CheckFail, cfgField+"/ScaleOutCooldown",
			fmt.Sprintf("%s. %d times the scale-out alarm asked for more tasks, but within the %d s scale-out cooldown the tasks already added counted toward it, so the service grew one step per cooldown while the traffic rose (%s)", slow, rep.Blocked, st.OutCooldown, timeline(rep)))
	}
	return withStatus(c, grader.CheckFail, cfgField+"/TargetValue",
		fmt.Sprintf("%s. With the target at %g the tasks ran close to full before the alarm had three datapoints above it, and new tasks take %.0f s to start, so the rising traffic outran them; a lower target keeps headroom for that delay (%s)", slow, st.Target, sc.TaskStartSeconds, timeline(rep)))
}

// peakNeed is the task count that keeps the peak at the target.
func peakNeed(sc *Scenario, st Settings) int {
	var peak float64
	for _, ph := range sc.Traffic {
		peak = max(peak, ph.RPS)
		if ph.ToRPS != nil {
			peak = max(peak, *ph.ToRPS)
		}
	}
	switch st.Metric {
	case MetricALB:
		return ceilTo(peak * 60 / st.Target)
	default:
		return ceilTo(peak / sc.TaskRPS() * 100 / st.Target)
	}
}

func costCheck(c grader.Check, rep *Report, sc *Scenario, st Settings, fast bool) grader.Check {
	c.Observed = fmt.Sprintf("%s task-seconds; %d tasks at the end of the day", num(rep.TaskSeconds), rep.Final)
	c.Expected = fmt.Sprintf("at most %s task-seconds", num(sc.Budget.TaskSeconds))
	cap := ""
	if rep.BeyondCap > 0 {
		cap = fmt.Sprintf(" (%s of them for tasks above the grader's cap of %d, counted as billed though they served nothing)", num(rep.BeyondCap), sc.Trial.TaskCap)
	}
	if rep.TaskSeconds <= sc.Budget.TaskSeconds {
		msg := fmt.Sprintf("the day cost %s task-seconds%s, within the budget", num(rep.TaskSeconds), cap)
		if !fast {
			msg = fmt.Sprintf("the day cost %s task-seconds%s, but a service that cannot keep up with its traffic is always cheap", num(rep.TaskSeconds), cap)
		}
		return withStatus(c, grader.CheckPass, "", msg)
	}
	over := fmt.Sprintf("the day cost %s task-seconds%s, over the budget of %s", num(rep.TaskSeconds), cap, num(sc.Budget.TaskSeconds))
	nightNeed := max(1, ceilTo(lastRPS(sc)/sc.TaskRPS()*100/max(st.Target, 1)))
	switch {
	case st.DisableScaleIn && rep.Final > st.Min:
		return withStatus(c, grader.CheckFail, cfgField+"/DisableScaleIn",
			fmt.Sprintf("%s. Scale-in is disabled, so the %d tasks of the peak kept running (and billing) through the quiet hours, where %d would do", over, rep.Final, max(st.Min, nightNeed)))
	case st.Min > max(2, nightNeed) && rep.Final == st.Min:
		return withStatus(c, grader.CheckFail, "/RegisterScalableTarget/MinCapacity",
			fmt.Sprintf("%s. MinCapacity keeps %d tasks running all day, while the quiet hours need %d", over, st.Min, nightNeed))
	}
	return withStatus(c, grader.CheckFail, cfgField+"/TargetValue",
		fmt.Sprintf("%s. With the target at %g each task works little, so the service runs more tasks than the traffic needs (peak %d; %s)", over, st.Target, rep.Peak, timeline(rep)))
}

func lastRPS(sc *Scenario) float64 {
	ph := sc.Traffic[len(sc.Traffic)-1]
	if ph.ToRPS != nil {
		return *ph.ToRPS
	}
	return ph.RPS
}
