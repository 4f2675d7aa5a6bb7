// Package cloudrun grades the Cloud Run exercises: a Knative-style
// service YAML is read strictly and checked against Cloud Run's rules, then
// played against a small Cloud Run inside the grader. A router holds each
// instance to its containerConcurrency and queues the excess, an autoscaler
// starts real run-worker containers between minScale and maxScale (cold
// starts are measured, not assumed), and a load generator on loopback plays
// a quiet period, a morning spike and quiet again. The result reports the
// latency percentiles, the instance-seconds spent, the cold starts and the
// peak number of instances, and says why a service missed its SLO. A
// scenario with a canary block plays a traffic split instead: one container
// per revision behind a router that splits requests by the submission's
// percents and tags (canary.go, split.go).
package cloudrun

import (
	"context"
	"fmt"
	"sort"
	"time"

	"coldstart/grader"
	"coldstart/grader/sandbox"
)

// Kind is the "cloudrun" exercise kind.
type Kind struct{}

// New returns the kind.
func New() Kind { return Kind{} }

// Name implements grader.Kind.
func (Kind) Name() string { return "cloudrun" }

// scenarioOf reads and checks the exercise's scenario block.
func scenarioOf(spec grader.Spec) (*Scenario, error) {
	var sc Scenario
	if err := spec.DecodeScenario(&sc); err != nil {
		return nil, err
	}
	if err := sc.normalise(); err != nil {
		return nil, err
	}
	return &sc, nil
}

func runChecks(sc *Scenario) []grader.Check {
	return []grader.Check{
		{ID: "run.p99", Title: fmt.Sprintf("p99 latency over the morning stays within the SLO of %d ms", sc.SLO.P99Ms), Phase: grader.PhaseRun, MaxPoints: 3},
		{ID: "run.budget", Title: fmt.Sprintf("The morning costs at most %g instance-seconds", sc.Budget.InstanceSeconds), Phase: grader.PhaseRun, MaxPoints: 2},
	}
}

// Plan implements grader.Kind: the static checks, then the morning played
// on a small Cloud Run when they all pass.
func (Kind) Plan(g *grader.Grading) (*grader.Plan, error) {
	sc, err := scenarioOf(g.Spec)
	if err != nil {
		return nil, fmt.Errorf("the exercise's scenario cannot be used: %w", err)
	}
	svc, err := ParseService(g.Body)
	if err != nil {
		return nil, err
	}
	p := &grader.Plan{Checks: judge(svc), RunChecks: runChecks(sc),
		Run: func(ctx context.Context, g *grader.Grading) error { return playMorning(ctx, g, sc, svc) }}
	if sc.Canary != nil {
		p = &grader.Plan{Checks: judgeWith(svc, sc.Canary), RunChecks: canaryRunChecks(sc.Canary),
			Run: func(ctx context.Context, g *grader.Grading) error { return playCanary(ctx, g, sc, svc) }}
	}
	for _, c := range p.Checks {
		if c.Status == grader.CheckFail || c.Status == grader.CheckError {
			p.Refused = "not run: fix the settings the checks above reject first"
			break
		}
	}
	return p, nil
}

// openTrial opens the grading's containers and the network a trial runs
// in, with its relay warm, and marks check as running with title.
func openTrial(ctx context.Context, g *grader.Grading, check, title string) (*sandbox.Scope, *sandbox.Network, error) {
	scope, err := sandbox.Open(ctx, g)
	if err != nil {
		return nil, nil, err
	}
	g.Running(check, title)
	nw, err := scope.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		return nil, nil, fmt.Errorf("the trial's network could not be created: %w", err)
	}
	scope.WarmRelay(ctx, nw)
	return scope, nw, nil
}

// playMorning runs the trial and records the run checks.
func playMorning(ctx context.Context, g *grader.Grading, sc *Scenario, svc *Service) error {
	run := runChecks(sc)
	if svc.MinScale == 0 {
		// With no warm instance the first cold start is timed: the lab
		// image must be built before it, so that the build is not counted.
		if err := g.LabImage(ctx); err != nil {
			return fmt.Errorf("the lab image is not available: %w", err)
		}
	}
	scope, nw, err := openTrial(ctx, g, "run.p99", "Playing the morning on a small Cloud Run")
	if err != nil {
		return err
	}
	// The app listens on $PORT, so any containerPort would do; the trial
	// always gives it 8080, Cloud Run's default.
	launcher := newContainerLauncher(scope, nw, sc, defaultPort)
	trial := &Trial{Scenario: sc, Service: svc, Launcher: launcher,
		Progress: func(format string, args ...any) {
			g.Progress("run.p99", format, args...)
			g.Logf(format, args...)
		}}
	rep, err := trial.Run(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the trial could not run: %w", err)
	}
	g.Progress("run.p99", "%s · %.1f instance-seconds · %d cold starts during the traffic · peak %d instances",
		observedLatency(rep), rep.InstanceSeconds, len(rep.ColdStarts), rep.Peak)
	for problem, n := range rep.Problems {
		g.Logf("%d requests failed in the router: %s", n, problem)
	}
	g.Logf("median service time %s per request (the app's work is %d ms); longest wait inside an instance %s, in the router %s; router queue peak %d",
		ms(rep.ServiceTime), sc.App.WorkMs, ms(rep.MaxInQueue), ms(rep.MaxRouterWait), rep.PeakQueue)
	latency, budget := latencyCheck(run[0], rep, svc, sc), budgetCheck(run[1], rep, svc, sc)
	if latency.Status == grader.CheckError && float64(svc.MinScale)*rep.Duration.Seconds() > sc.Budget.InstanceSeconds {
		// The warm minimum alone misses the budget, whatever the machine's
		// speed, so the grading has a verdict; the latency simply could not
		// be judged.
		latency.Status = grader.CheckSkip
	}
	g.Add(latency)
	g.Add(budget)
	return nil
}

func ms(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func pct(d time.Duration, failed bool) string {
	if failed {
		return "unanswered"
	}
	return ms(d)
}

func observedLatency(r *TrialReport) string {
	l := r.Latency
	s := fmt.Sprintf("p50 %s · p95 %s · p99 %s over %d requests", pct(l.P50, l.Failed50), pct(l.P95, l.Failed95), pct(l.P99, l.Failed99), r.Requests)
	if r.Failed > 0 {
		s += fmt.Sprintf(" (%d failed or unanswered)", r.Failed)
	}
	return s
}

// coldStarts describes the cold starts of the instances started during
// the traffic.
func coldStarts(r *TrialReport) string {
	var ds []time.Duration
	for _, c := range r.ColdStarts {
		if c.Ready {
			ds = append(ds, c.Total)
		}
	}
	if len(ds) == 0 {
		return fmt.Sprintf("none of the %d instances started during the traffic was ready before the trial ended", len(r.ColdStarts))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	took := "took " + secs(ds[0])
	if ds[0].Round(100*time.Millisecond) != ds[len(ds)-1].Round(100*time.Millisecond) {
		took = fmt.Sprintf("took %s to %s", secs(ds[0]), secs(ds[len(ds)-1]))
	}
	s := fmt.Sprintf("the instances started during the traffic %s from the autoscaler's decision to their first answer", took)
	if n := len(r.ColdStarts) - len(ds); n > 0 {
		s += fmt.Sprintf(", and %d more were not ready before the trial ended", n)
	}
	return s
}

func latencyCheck(c grader.Check, r *TrialReport, svc *Service, sc *Scenario) grader.Check {
	slo := time.Duration(sc.SLO.P99Ms) * time.Millisecond
	c.Observed = observedLatency(r)
	c.Expected = fmt.Sprintf("p99 ≤ %d ms", sc.SLO.P99Ms)
	if !r.Latency.Failed99 && r.Latency.P99 <= slo {
		c.Status, c.Points = grader.CheckPass, c.MaxPoints
		c.Message = fmt.Sprintf("p99 %s is within the SLO of %d ms. %d warm instances met the spike", ms(r.Latency.P99), sc.SLO.P99Ms, r.Warm)
		if n := len(r.ColdStarts); n > 0 {
			c.Message += fmt.Sprintf("; the autoscaler started %d more (%s), and %d requests waited for them", n, coldStarts(r), r.WaitedForCold)
		}
		c.Message += "."
		return c
	}
	if msg := machineTooSlow(r, svc, sc); msg != "" {
		c.Status = grader.CheckError
		c.Message = msg
		return c
	}
	c.Status = grader.CheckFail
	c.Message, c.Field, c.Hint = explainSlow(r, svc, sc)
	if c.Message == "" {
		// Nothing the service did explains the slow requests: the machine
		// running the trial was too busy to judge.
		c.Status = grader.CheckError
		c.Message = fmt.Sprintf("p99 was %s, but the slow requests waited neither in the router nor inside an instance: the machine running the trial was too busy to judge fairly. Grade again; this attempt does not count.", pct(r.Latency.P99, r.Latency.Failed99))
	}
	return c
}

// machineTooSlow returns why a missed SLO is the fault of the machine running
// the trial rather than of the service, or "". That is so when the requests
// queued in the router although the instances ready at the spike's start
// could hold the spike's requests at the autoscaler's target, with nothing
// queued inside an instance by design: at the app's real speed they would
// not have waited.
func machineTooSlow(r *TrialReport, svc *Service, sc *Scenario) string {
	top, n := "", 0
	for k, v := range r.Slow {
		if v > n {
			top, n = k, v
		}
	}
	if top == slowInstanceQueue || svc.EffectiveConcurrency() > int64(sc.App.Parallelism) {
		return "" // requests queue inside an instance by design
	}
	peak := sc.peak()
	perInstance := float64(min(svc.EffectiveConcurrency(), int64(sc.App.Parallelism))) * sc.Trial.TargetUtilization
	needed := peak.RPS * float64(sc.App.WorkMs) / 1000
	if float64(r.ReadyAtPeak)*perInstance < needed {
		return ""
	}
	return fmt.Sprintf("p99 was %s, but the %d instances ready when the spike began could hold its %.1f requests in flight "+
		"with room to spare: requests waited only because the machine running the trial was too busy (a request took a median of %s "+
		"inside an instance, for %d ms of work). Grade again; this attempt does not count.",
		pct(r.Latency.P99, r.Latency.Failed99), r.ReadyAtPeak, needed, ms(r.ServiceTime), sc.App.WorkMs)
}

// explainSlow says why the service missed its SLO, from what the slow
// requests waited for.
func explainSlow(r *TrialReport, svc *Service, sc *Scenario) (msg, field, hint string) {
	reason, n := "", 0
	for _, k := range []string{slowInstanceQueue, slowColdStart, slowMaxScale, slowCap, slowScaling, slowOther} {
		if r.Slow[k] > n {
			reason, n = k, r.Slow[k]
		}
	}
	cc := svc.EffectiveConcurrency()
	par := sc.App.Parallelism
	if cc > int64(par) && r.Slow[slowInstanceQueue] > 0 {
		// More requests per instance than the app works on at once is the
		// service's own mistake, whatever else slowed the trial down.
		reason, n = slowInstanceQueue, r.Slow[slowInstanceQueue]
	}
	head := fmt.Sprintf("p99 was %s, over the SLO of %d ms: %d of %d requests took longer", pct(r.Latency.P99, r.Latency.Failed99), sc.SLO.P99Ms, r.SlowTotal, r.Requests)
	if r.Unfinished > 0 {
		head += fmt.Sprintf(" (%d had no answer when the trial ended)", r.Unfinished)
	}
	peak := sc.peak()
	inFlight := peak.RPS * float64(sc.App.WorkMs) / 1000
	minPath, maxPath := annotationPath(pathAnnotations, annMinScale), annotationPath(pathAnnotations, annMaxScale)
	switch reason {
	case slowInstanceQueue:
		set := fmt.Sprintf("containerConcurrency %d", cc)
		if !svc.ConcurrencySet || svc.Concurrency == 0 {
			set = "containerConcurrency not set (80)"
		}
		msg = fmt.Sprintf("%s, %d of them waiting inside an instance (up to %s). With %s the router put up to %d requests on one instance, "+
			"but the app works on %d at a time, so the rest queued inside the process. The router and the autoscaler count those requests as being served, "+
			"so they neither sent them elsewhere nor started instances for them.", head, n, ms(r.MaxInQueue), set, cc, par)
		return msg, pathConcurrency, fmt.Sprintf("Set containerConcurrency to what the app really runs in parallel: %d.", par)
	case slowColdStart:
		msg = fmt.Sprintf("%s, %d of them waiting in the router for instances that were still starting (up to %s). "+
			"When the spike of %g requests/s began, %d instance(s) were ready (minScale %d), and %s; "+
			"each cold start is the container's start plus %d ms of app initialisation.",
			head, n, ms(r.MaxRouterWait), peak.RPS, r.ReadyAtPeak, svc.MinScale, coldStarts(r), sc.App.InitMs)
		return msg, minPath, fmt.Sprintf("Keep enough instances warm for the spike with %s: %g requests/s of %d ms each are about %.1f requests in flight, and one instance works on %d.",
			annMinScale, peak.RPS, sc.App.WorkMs, inFlight, par)
	case slowMaxScale:
		msg = fmt.Sprintf("%s, %d of them queued in the router, which grew to %d requests (waits up to %s): all %d instance(s) that maxScale %d allows were full while the autoscaler wanted %d.",
			head, n, r.PeakQueue, ms(r.MaxRouterWait), r.Config.MaxScale, svc.MaxScale, r.WantPeak)
		return msg, maxPath, fmt.Sprintf("Raise %s so that the service can grow with the spike.", annMaxScale)
	case slowCap:
		msg = fmt.Sprintf("%s, %d of them queued in the router (up to %d at once): this trial starts at most %d instances, and they were all full while the autoscaler wanted %d.",
			head, n, r.PeakQueue, r.Config.Cap, r.WantPeak)
		if cc < int64(par) {
			msg += fmt.Sprintf(" With containerConcurrency %d each instance takes %d of the %d requests the app could work on, so the spike needs far more instances than it should.", cc, cc, par)
			return msg, pathConcurrency, fmt.Sprintf("Set containerConcurrency to what the app really runs in parallel: %d.", par)
		}
		return msg, maxPath, "Size minScale and containerConcurrency so that the spike fits in fewer instances."
	case slowScaling:
		msg = fmt.Sprintf("%s, %d of them queued in the router (up to %s) while the autoscaler had not yet added instances.", head, n, ms(r.MaxRouterWait))
		return msg, minPath, fmt.Sprintf("Keep enough instances warm for the spike with %s.", annMinScale)
	}
	return "", "", ""
}

func budgetCheck(c grader.Check, r *TrialReport, svc *Service, sc *Scenario) grader.Check {
	c.Observed = fmt.Sprintf("%.1f instance-seconds (peak %d instances, %d cold starts during the traffic)", r.InstanceSeconds, r.Peak, len(r.ColdStarts))
	c.Expected = fmt.Sprintf("≤ %g instance-seconds", sc.Budget.InstanceSeconds)
	warm := float64(svc.MinScale) * r.Duration.Seconds()
	extra := max(r.InstanceSeconds-warm, 0)
	parts := fmt.Sprintf("minScale %d kept for the whole %.0f s is %.1f instance-seconds, and the instances the autoscaler added cost %.1f",
		svc.MinScale, r.Duration.Seconds(), warm, extra)
	if svc.MinScale == 0 {
		parts = fmt.Sprintf("no instance is kept warm, and the instances the autoscaler started cost %.1f", extra)
	}
	if r.BeyondCap > 0 {
		parts += fmt.Sprintf(" (this trial starts at most %d instances; the other %d warm ones are counted as kept idle all morning)", r.Config.Cap, svc.MinScale-int64(r.Config.Cap))
	}
	if r.InstanceSeconds <= sc.Budget.InstanceSeconds {
		c.Status, c.Points = grader.CheckPass, c.MaxPoints
		c.Message = fmt.Sprintf("%.1f of %g instance-seconds: %s.", r.InstanceSeconds, sc.Budget.InstanceSeconds, parts)
		return c
	}
	c.Status = grader.CheckFail
	c.Message = fmt.Sprintf("%.1f instance-seconds, over the budget of %g: %s.", r.InstanceSeconds, sc.Budget.InstanceSeconds, parts)
	if warm >= extra {
		c.Field = annotationPath(pathAnnotations, annMinScale)
		c.Hint = "Warm instances are paid for through the quiet hours too: keep only as many as the spike needs."
	} else {
		c.Field = pathConcurrency
		c.Hint = "The autoscaler ran many instances: let each instance take as many requests as the app can really work on."
	}
	return c
}

// compile-time check that Kind is a grader kind.
var _ grader.Kind = Kind{}
