package cloudrun

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"coldstart/grader"
)

// Trial is one run of the traffic profile against a service on the small
// Cloud Run.
type Trial struct {
	Scenario *Scenario
	Service  *Service
	Launcher Launcher
	// Progress receives steps as they happen.
	Progress func(format string, args ...any)
}

// TrialReport is what a trial measured.
type TrialReport struct {
	Latency    percentiles
	Requests   int
	Failed     int // answered with an error, or not answered by the end
	Unfinished int // still waiting when the trial ended
	// Problems counts the router's reasons for failed requests.
	Problems map[string]int

	// InstanceSeconds is the billed time of every instance, from its start
	// (or the start of the traffic, for the warm minimum) until it was
	// stopped or the traffic ended.
	InstanceSeconds float64
	// BeyondCap is the part of InstanceSeconds for minimum instances the
	// grader did not start because of its cap: idle, billed all along.
	BeyondCap float64

	Warm          int           // instances started before the traffic
	ReadyAtPeak   int           // instances ready when the busiest phase began
	WarmStart     time.Duration // the slowest of their starts
	ColdStarts    []ColdStart   // instances started during the traffic
	Peak          int           // most instances alive at once
	PeakQueue     int           // longest queue at the router
	WantPeak      int           // most instances the autoscaler wanted, before limits
	Stopped       int           // instances stopped after idling
	WaitedForCold int           // requests that waited in the router for a starting instance

	// Slow counts requests over the SLO (or failed) by what made them slow.
	Slow          map[string]int
	SlowTotal     int
	MaxInQueue    time.Duration // longest wait inside an instance
	MaxRouterWait time.Duration // longest wait in the router's queue
	// ServiceTime is the median time an instance took for a request, not
	// counting the wait inside it: the app's work plus the machine's own
	// overhead. Far above the work, the machine running the trial was slow.
	ServiceTime time.Duration

	Config   PlatformConfig
	Duration time.Duration
}

// ColdStart is one instance started while traffic was flowing.
type ColdStart struct {
	Instance  string
	At        time.Duration // since the traffic started
	Total     time.Duration // start asked → first successful request
	Container time.Duration // start asked → container running
	Ready     bool
}

// What made a slow request slow.
const (
	slowInstanceQueue = "instance-queue"
	slowColdStart     = "cold-start"
	slowMaxScale      = "max-scale"
	slowCap           = "cap"
	slowScaling       = "scaling"
	slowOther         = "other"
)

// Run plays the scenario's traffic and measures it.
func (t *Trial) Run(ctx context.Context) (*TrialReport, error) {
	sc, svc := t.Scenario, t.Service
	if t.Progress == nil {
		t.Progress = func(string, ...any) {}
	}
	progress := t.Progress
	capN := sc.Trial.InstanceCap
	arrivals := plan(sc.Traffic)
	cfg := PlatformConfig{
		Concurrency: int(min(svc.EffectiveConcurrency(), maxConcurrency)),
		MinScale:    int(min(svc.MinScale, int64(capN))),
		MaxScale:    int(min(svc.MaxScale, int64(capN))),
		AskedMax:    int(min(svc.MaxScale, 1<<30)),
		Cap:         capN,
		Target:      sc.Trial.TargetUtilization,
		Idle:        time.Duration(sc.Trial.IdleMs) * time.Millisecond,
		Requests:    len(arrivals),
	}
	launchCtx, stopLaunches := context.WithCancel(ctx)
	defer stopLaunches()
	p := NewPlatform(cfg, t.Launcher, progress)
	defer p.Close()

	if cfg.MinScale > 0 {
		progress("starting %d warm instances for minScale %d before the traffic", cfg.MinScale, svc.MinScale)
	}
	if err := p.Prewarm(launchCtx); err != nil {
		return nil, fmt.Errorf("the warm instances could not start: %w", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("the router could not listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	duration := sc.Duration()
	start := time.Now().Add(20 * time.Millisecond)
	end := start.Add(duration)
	cutoff := end.Add(time.Duration(sc.Trial.GraceMs) * time.Millisecond)

	scaleCtx, stopScaling := context.WithCancel(ctx)
	go p.Autoscale(scaleCtx, launchCtx, 100*time.Millisecond)
	var readyAtPeak atomic.Int64
	peakTimer := time.AfterFunc(time.Until(start.Add(t.peakStart())), func() { readyAtPeak.Store(int64(p.Snapshot().Serving)) })
	defer peakTimer.Stop()
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		t.status(scaleCtx, p, start, end)
	}()

	outs := generate(ctx, "http://"+ln.Addr().String()+"/", arrivals, start, cutoff)
	stopScaling()
	<-statusDone
	stopLaunches()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	_ = srv.Shutdown(sctx) // waits for the router's handlers to finish
	cancel()
	p.Close()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	peakTimer.Stop()
	rep := t.report(p, outs, start, end)
	rep.ReadyAtPeak = int(readyAtPeak.Load())
	return rep, nil
}

// peakStart is when the busiest phase begins.
func (t *Trial) peakStart() time.Duration {
	at, best, bestRPS := 0.0, 0.0, -1.0
	for _, ph := range t.Scenario.Traffic {
		if ph.RPS > bestRPS {
			best, bestRPS = at, ph.RPS
		}
		at += ph.Seconds
	}
	return time.Duration(best * float64(time.Second))
}

// status reports the platform's state once a second.
func (t *Trial) status(ctx context.Context, p *Platform, start, end time.Time) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if now.After(end) {
				return
			}
			ph := t.phaseAt(now.Sub(start))
			s := p.Snapshot()
			t.Progress("t=%.0f s, %s (%g requests/s): %d instances serving, %d starting, %d requests in flight, %d queued at the router",
				now.Sub(start).Seconds(), ph.Name, ph.RPS, s.Serving, s.Starting, s.InFlight, s.Queued)
		}
	}
}

func (t *Trial) phaseAt(d time.Duration) Phase {
	at := 0.0
	for _, ph := range t.Scenario.Traffic {
		at += ph.Seconds
		if d.Seconds() < at {
			return ph
		}
	}
	return t.Scenario.Traffic[len(t.Scenario.Traffic)-1]
}

func (t *Trial) report(p *Platform, outs []outcome, start, end time.Time) *TrialReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	slo := time.Duration(t.Scenario.SLO.P99Ms) * time.Millisecond
	r := &TrialReport{Latency: latencyPercentiles(outs), Requests: len(outs), Peak: p.peak, PeakQueue: p.queuePeak,
		WantPeak: p.wantPeak, Config: p.cfg, Duration: end.Sub(start), Slow: map[string]int{}, Problems: map[string]int{}}
	for _, in := range p.all {
		from, to := in.requested, end
		if from.Before(start) {
			from = start
		}
		if !in.stopAt.IsZero() && in.stopAt.Before(to) {
			to = in.stopAt
			r.Stopped++
		}
		if to.After(from) {
			r.InstanceSeconds += to.Sub(from).Seconds()
		}
		if in.warm {
			r.Warm++
			r.WarmStart = max(r.WarmStart, in.coldStart())
			continue
		}
		cs := ColdStart{Instance: in.name, At: in.requested.Sub(start), Ready: !in.ready.IsZero()}
		if cs.Ready {
			cs.Total = in.coldStart()
			cs.Container = in.running.Sub(in.requested)
		}
		r.ColdStarts = append(r.ColdStarts, cs)
	}
	if asked := t.Service.MinScale; asked > int64(p.cfg.Cap) {
		r.BeyondCap = float64(asked-int64(p.cfg.Cap)) * end.Sub(start).Seconds()
		r.InstanceSeconds += r.BeyondCap
	}
	var service []time.Duration
	for i, o := range outs {
		rec := p.records[i]
		if o.ok && rec.seen {
			service = append(service, rec.upstream-rec.inQueue)
		}
		if rec.problem != "" {
			r.Problems[grader.Clip(rec.problem)]++
		}
		if !o.ok {
			r.Failed++
			if o.unfinished {
				r.Unfinished++
			}
		}
		if rec.cause == causeColdStart {
			r.WaitedForCold++
		}
		r.MaxInQueue = max(r.MaxInQueue, rec.inQueue)
		r.MaxRouterWait = max(r.MaxRouterWait, rec.wait)
		if o.ok && o.latency <= slo {
			continue
		}
		r.SlowTotal++
		r.Slow[slowReason(o, rec)]++
	}
	if len(service) > 0 {
		sort.Slice(service, func(i, j int) bool { return service[i] < service[j] })
		r.ServiceTime = service[len(service)/2]
	}
	return r
}

// slowReason says what made one slow request slow: the larger of its wait
// in the router's queue and its wait inside the instance, when that is a
// good part of its time.
func slowReason(o outcome, rec record) string {
	total := o.latency
	if rec.wait >= rec.inQueue && rec.wait*3 >= total && rec.cause != causeNone {
		switch rec.cause {
		case causeColdStart:
			return slowColdStart
		case causeMaxScale:
			return slowMaxScale
		case causeCap:
			return slowCap
		default:
			return slowScaling
		}
	}
	if rec.inQueue*3 >= total {
		return slowInstanceQueue
	}
	return slowOther
}
