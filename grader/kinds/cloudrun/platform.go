package cloudrun

import (
	"container/list"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Launcher starts the container of one instance. Launch returns once the
// container runs; the platform then waits for the app to answer.
type Launcher interface {
	Launch(ctx context.Context, name string) (Backend, error)
}

// Dialer is a Launcher whose instances are reached through its own dial
// function (the sandbox's relay) rather than the grader's network stack.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Backend is one started instance.
type Backend interface {
	// Addr is host:port where the instance's app listens.
	Addr() string
	// Stop asks the instance to shut down (SIGTERM) and waits for it.
	Stop(ctx context.Context) error
}

// PlatformConfig is what the small Cloud Run needs to know of the service.
type PlatformConfig struct {
	Concurrency int // requests one instance may hold
	MinScale    int // instances kept even when idle (already capped)
	MaxScale    int // the most instances the autoscaler may run (already capped)
	// AskedMax is the maxScale the submission asked for, before the cap.
	AskedMax int
	// Cap is the grader's own limit on instances it starts.
	Cap    int
	Target float64       // share of Concurrency the autoscaler aims for
	Idle   time.Duration // idle time before an extra instance is stopped
	// Requests is how many requests the trial will send; each has a record.
	Requests int
}

// waitCause says why a request waited in the router's queue.
type waitCause int

const (
	causeNone      waitCause = iota
	causeColdStart           // an instance was starting, or the one that took it had just started
	causeMaxScale            // every instance maxScale allows was full
	causeCap                 // every instance the grader's cap allows was full
	causeScaling             // the autoscaler had not yet reacted
)

// record is what the router saw of one request.
type record struct {
	seen     bool
	wait     time.Duration // in the router's queue
	cause    waitCause
	instance int
	inQueue  time.Duration // inside the instance, waiting for a worker
	upstream time.Duration // from forwarding to the instance's full answer
	failed   bool
	problem  string // why it failed, in the router's words
}

// instance is one container instance of the service.
type instance struct {
	id        int
	name      string
	warm      bool // started before the traffic, for minScale
	backend   Backend
	addr      string
	requested time.Time
	running   time.Time // container started
	ready     time.Time // first successful request
	stopAt    time.Time // scale-down asked
	inflight  int
	idleSince time.Time
	served    int
	err       error
}

func (in *instance) coldStart() time.Duration { return in.ready.Sub(in.requested) }

type waiter struct {
	ch       chan *instance
	enq      time.Time
	starting bool // an instance was starting when it arrived
	atMax    bool
	atCap    bool
	assigned bool
}

// Platform is a small Cloud Run: a router that holds each instance to its
// concurrency and queues the excess, and an autoscaler that starts and
// stops instances between minScale and maxScale.
type Platform struct {
	cfg      PlatformConfig
	launcher Launcher
	client   *http.Client
	probe    *http.Transport // readiness probes, one connection each
	progress func(format string, args ...any)

	mu        sync.Mutex
	all       []*instance
	serving   []*instance // ready instances in the order they became ready
	starting  int
	queue     *list.List
	queuePeak int
	peak      int // most instances alive at once
	wantPeak  int // the most instances the autoscaler wanted, before limits
	samples   []float64
	records   []record
	launchErr error
	closed    bool

	wg sync.WaitGroup
}

// NewPlatform returns a platform that starts instances with launcher and
// reports steps to progress.
func NewPlatform(cfg PlatformConfig, launcher Launcher, progress func(format string, args ...any)) *Platform {
	if progress == nil {
		progress = func(string, ...any) {}
	}
	tr := &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	probe := &http.Transport{DisableKeepAlives: true}
	if d, ok := launcher.(Dialer); ok {
		tr.DialContext, probe.DialContext = d.DialContext, d.DialContext
	}
	return &Platform{cfg: cfg, launcher: launcher, progress: progress, queue: list.New(),
		client: &http.Client{Transport: tr}, probe: probe, records: make([]record, cfg.Requests)}
}

// Prewarm starts the minimum instances and waits until they all answer, as
// they would be before the morning: no request pays for their start.
func (p *Platform) Prewarm(ctx context.Context) error {
	p.mu.Lock()
	n := p.cfg.MinScale
	ins := p.startLocked(ctx, n, true)
	p.mu.Unlock()
	for _, in := range ins {
		for {
			p.mu.Lock()
			ready, err := !in.ready.IsZero(), in.err
			p.mu.Unlock()
			if err != nil {
				return err
			}
			if ready {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

// startLocked launches n instances in the background.
func (p *Platform) startLocked(ctx context.Context, n int, warm bool) []*instance {
	var out []*instance
	for range n {
		in := &instance{id: len(p.all) + 1, warm: warm, requested: time.Now()}
		in.name = fmt.Sprintf("instance-%d", in.id)
		p.all = append(p.all, in)
		p.starting++
		out = append(out, in)
		p.wg.Add(1)
		go p.launch(ctx, in)
	}
	if alive := len(p.serving) + p.starting; alive > p.peak {
		p.peak = alive
	}
	return out
}

func (p *Platform) launch(ctx context.Context, in *instance) {
	defer p.wg.Done()
	fail := func(err error) {
		p.mu.Lock()
		in.err = err
		p.starting--
		if p.launchErr == nil && ctx.Err() == nil {
			p.launchErr = fmt.Errorf("%s could not start: %w", in.name, err)
		}
		p.mu.Unlock()
	}
	b, err := p.launcher.Launch(ctx, in.name)
	if err != nil {
		fail(err)
		return
	}
	p.mu.Lock()
	in.backend, in.addr, in.running = b, b.Addr(), time.Now()
	p.mu.Unlock()
	// The app listens only after its initialisation: poll until the first
	// request succeeds.
	// A probe through the relay first starts an exec on the engine, which
	// takes tens of milliseconds (more on a busy engine); an app that is not
	// listening yet is refused at once all the same, so the longer timeout
	// only spares a slow engine from looking like a dead app.
	probe := &http.Client{Timeout: 2 * time.Second, Transport: p.probe}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+in.addr+"/healthz", nil)
		resp, err := probe.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if ctx.Err() != nil {
			fail(ctx.Err())
			return
		}
		if time.Now().After(deadline) {
			fail(fmt.Errorf("the app did not answer within 20 s of its container starting"))
			return
		}
		time.Sleep(15 * time.Millisecond)
	}
	p.mu.Lock()
	in.ready = time.Now()
	in.idleSince = in.ready
	p.starting--
	p.serving = append(p.serving, in)
	p.dispatchLocked()
	p.mu.Unlock()
	p.progress("%s ready: cold start %s (container %s + app %s)", in.name, secs(in.coldStart()),
		secs(in.running.Sub(in.requested)), secs(in.ready.Sub(in.running)))
}

// Autoscale runs the autoscaler every tick until ctx ends.
func (p *Platform) Autoscale(ctx context.Context, launchCtx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.scale(launchCtx)
		}
	}
}

// window is how many autoscaler samples (one per tick) the demand is
// averaged over: a second, so that a short stall of the machine running the
// trial does not look like more traffic.
const window = 10

func (p *Platform) scale(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	demand := float64(p.queue.Len())
	for _, in := range p.serving {
		demand += float64(in.inflight)
	}
	p.samples = append(p.samples, demand)
	if len(p.samples) > window {
		p.samples = p.samples[len(p.samples)-window:]
	}
	avg := 0.0
	for _, s := range p.samples {
		avg += s
	}
	avg /= float64(len(p.samples))
	want := int(math.Ceil(avg/(float64(p.cfg.Concurrency)*p.cfg.Target) - 1e-9))
	if want > p.wantPeak {
		p.wantPeak = want
	}
	want = max(want, p.cfg.MinScale)
	want = min(want, p.cfg.MaxScale)
	alive := len(p.serving) + p.starting
	if want > alive {
		p.startLocked(ctx, want-alive, false)
		p.progress("autoscaler: %.1f requests in flight or queued → %d instances; starting %d", avg, want, want-alive)
		return
	}
	// Scale down: the newest instances go first, once idle long enough.
	now := time.Now()
	for i := len(p.serving) - 1; i >= 0 && len(p.serving)+p.starting > want && len(p.serving) > p.cfg.MinScale; i-- {
		in := p.serving[i]
		if in.inflight > 0 || now.Sub(in.idleSince) < p.cfg.Idle {
			continue
		}
		p.serving = append(p.serving[:i], p.serving[i+1:]...)
		in.stopAt = now
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			defer cancel()
			_ = in.backend.Stop(sctx)
		}()
		p.progress("%s idle for %s → stopped (SIGTERM)", in.name, secs(now.Sub(in.idleSince)))
	}
}

// freeLocked returns the first instance, in the order they became ready,
// with a free slot: the router fills an instance up to its concurrency
// before it uses the next.
func (p *Platform) freeLocked() *instance {
	for _, in := range p.serving {
		if in.inflight < p.cfg.Concurrency {
			return in
		}
	}
	return nil
}

func (p *Platform) dispatchLocked() {
	for p.queue.Len() > 0 {
		in := p.freeLocked()
		if in == nil {
			return
		}
		w := p.queue.Remove(p.queue.Front()).(*waiter)
		w.assigned = true
		in.inflight++
		w.ch <- in
	}
}

// acquire holds a slot on an instance for one request, queueing while none
// is free.
func (p *Platform) acquire(ctx context.Context) (*instance, time.Duration, waitCause, error) {
	p.mu.Lock()
	if p.queue.Len() == 0 {
		if in := p.freeLocked(); in != nil {
			in.inflight++
			p.mu.Unlock()
			return in, 0, causeNone, nil
		}
	}
	alive := len(p.serving) + p.starting
	w := &waiter{ch: make(chan *instance, 1), enq: time.Now(), starting: p.starting > 0}
	if alive >= p.cfg.MaxScale {
		if p.cfg.AskedMax > p.cfg.Cap && alive >= p.cfg.Cap {
			w.atCap = true
		} else {
			w.atMax = true
		}
	}
	e := p.queue.PushBack(w)
	if p.queue.Len() > p.queuePeak {
		p.queuePeak = p.queue.Len()
	}
	p.mu.Unlock()
	select {
	case in := <-w.ch:
		return in, time.Since(w.enq), w.cause(in), nil
	case <-ctx.Done():
		p.mu.Lock()
		if w.assigned {
			in := <-w.ch
			p.releaseLocked(in)
		} else {
			p.queue.Remove(e)
		}
		p.mu.Unlock()
		return nil, time.Since(w.enq), w.cause(nil), ctx.Err()
	}
}

// cause says why the waiter waited; in is the instance that took it, if any.
func (w *waiter) cause(in *instance) waitCause {
	switch {
	case w.starting || (in != nil && in.ready.After(w.enq)):
		return causeColdStart
	case w.atCap:
		return causeCap
	case w.atMax:
		return causeMaxScale
	}
	return causeScaling
}

func (p *Platform) release(in *instance) {
	p.mu.Lock()
	p.releaseLocked(in)
	p.mu.Unlock()
}

func (p *Platform) releaseLocked(in *instance) {
	in.inflight--
	if in.inflight == 0 {
		in.idleSince = time.Now()
	}
	p.dispatchLocked()
}

// SeqHeader carries the load generator's number for a request.
const SeqHeader = "X-Trial-Seq"

// ServeHTTP is the router: it takes a slot on an instance (queueing while
// none is free) and forwards the request to that instance.
func (p *Platform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &record{}
	if seq, err := strconv.Atoi(r.Header.Get(SeqHeader)); err == nil && seq >= 0 && seq < len(p.records) {
		rec = &p.records[seq] // each sequence number is used by one request only
	}
	rec.seen = true
	in, wait, cause, err := p.acquire(r.Context())
	rec.wait, rec.cause = wait, cause
	if err != nil {
		rec.failed, rec.problem = true, "no instance became free before the request ended"
		http.Error(w, rec.problem, http.StatusServiceUnavailable)
		return
	}
	rec.instance = in.id
	sent := time.Now()
	status, inQueue, ferr := p.forward(r.Context(), in)
	p.release(in)
	rec.inQueue, rec.upstream = inQueue, time.Since(sent)
	if ferr != nil {
		rec.failed, rec.problem = true, ferr.Error()
		http.Error(w, ferr.Error(), http.StatusBadGateway)
		return
	}
	if status != http.StatusOK {
		rec.failed, rec.problem = true, fmt.Sprintf("%s answered %d", in.name, status)
	}
	w.WriteHeader(status)
}

func (p *Platform) forward(ctx context.Context, in *instance) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+in.addr+"/", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", in.name, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", in.name, err)
	}
	ms, _ := strconv.Atoi(resp.Header.Get("X-Queue-Ms"))
	p.mu.Lock()
	in.served++
	p.mu.Unlock()
	return resp.StatusCode, time.Duration(ms) * time.Millisecond, nil
}

// Snapshot is the platform's state at one moment.
type Snapshot struct {
	Serving, Starting, Queued, InFlight int
}

// Snapshot returns the current state.
func (p *Platform) Snapshot() Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Snapshot{Serving: len(p.serving), Starting: p.starting, Queued: p.queue.Len()}
	for _, in := range p.serving {
		s.InFlight += in.inflight
	}
	return s
}

// Err returns the first failure to start an instance.
func (p *Platform) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.launchErr
}

// Close stops the autoscaler's work and waits for launches and stops in
// progress (their containers are removed with the grading's scope).
func (p *Platform) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
	p.client.CloseIdleConnections()
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
