package lbprobe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Target states, as a target group reports them.
const (
	StateInitial   = "initial"
	StateHealthy   = "healthy"
	StateUnhealthy = "unhealthy"
	StateDraining  = "draining"
	StateUnused    = "unused"
)

// Reasons a request failed.
const (
	FailNoTarget = "no healthy target: the load balancer answered 503"
	FailCut      = "cut when the deregistration delay ended"
	FailRefused  = "the target refused or dropped the connection"
	FailStatus   = "the target answered an error status"
	FailBody     = "the response ended before its body was complete"
)

type target struct {
	name, addr string
	state      string
	passes     int // consecutive passes
	fails      int // consecutive failures
	lastCheck  string
	registered time.Time
	// inflight cancels the requests still open to the target, as the load
	// balancer breaks them when the deregistration delay ends.
	inflight map[int]context.CancelFunc
	stop     context.CancelFunc
}

// LoadBalancer is one listener with one target group.
type LoadBalancer struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client

	mu      sync.Mutex
	targets map[string]*target
	order   []string // registration order, for round-robin
	next    int
	reqID   int
	traffic bool
	counts  Counts
	// life ends when Run returns: every health-check loop derives from it,
	// so targets registered before Run started stop with it too.
	life context.Context
	end  context.CancelFunc
	wg   sync.WaitGroup
}

// Counts is what the traffic saw.
type Counts struct {
	Sent     int            `json:"sent"`
	OK       int            `json:"ok"`
	Failed   int            `json:"failed"`
	InFlight int            `json:"inFlight"`
	Reasons  map[string]int `json:"reasons"`
	// FirstFailure says what the first failed request met, and where.
	FirstFailure string `json:"firstFailure,omitempty"`
}

// TargetStatus is one target as /status reports it.
type TargetStatus struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	LastCheck string `json:"lastCheck,omitempty"`
	InFlight  int    `json:"inFlight"`
}

// Status is the whole load balancer as /status reports it.
type Status struct {
	Targets []TargetStatus `json:"targets"`
	Traffic bool           `json:"traffic"`
	Counts  Counts         `json:"counts"`
}

// New returns a load balancer with no targets.
func New(cfg Config, log *slog.Logger) *LoadBalancer {
	life, end := context.WithCancel(context.Background())
	return &LoadBalancer{cfg: cfg, log: log, targets: map[string]*target{}, life: life, end: end,
		counts: Counts{Reasons: map[string]int{}},
		// No keep-alive: each request is its own connection, so breaking
		// a draining target's connections breaks exactly its requests.
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
}

// Run sends traffic while it is on, until ctx ends.
func (lb *LoadBalancer) Run(ctx context.Context) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / lb.cfg.Rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			lb.end()
			lb.wg.Wait()
			return
		case <-tick.C:
			lb.send(ctx)
		}
	}
}

// Register adds a target; it starts in the initial state and is checked
// at once, then every interval.
func (lb *LoadBalancer) Register(name, addr string) error {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if _, ok := lb.targets[name]; ok {
		return fmt.Errorf("target %s is already registered", name)
	}
	ctx, stop := context.WithCancel(lb.life)
	t := &target{name: name, addr: addr, state: StateInitial, registered: time.Now(), inflight: map[int]context.CancelFunc{}, stop: stop}
	lb.targets[name] = t
	lb.order = append(lb.order, name)
	lb.log.Info("target registered", slog.String("target", name), slog.String("addr", addr))
	lb.wg.Add(1)
	go lb.check(ctx, t)
	return nil
}

// Deregister starts draining a target: no new requests reach it, the ones
// in flight go on for the deregistration delay, and whatever is still open
// then is broken.
func (lb *LoadBalancer) Deregister(name string) error {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	t, ok := lb.targets[name]
	if !ok || t.state == StateDraining || t.state == StateUnused {
		return fmt.Errorf("target %s is not registered", name)
	}
	t.state = StateDraining
	t.stop()
	lb.log.Info("target draining", slog.String("target", name), slog.Int("inFlight", len(t.inflight)), slog.Duration("delay", lb.cfg.DeregDelay))
	time.AfterFunc(lb.cfg.DeregDelay, func() {
		lb.mu.Lock()
		defer lb.mu.Unlock()
		t.state = StateUnused
		for _, cancel := range t.inflight {
			cancel()
		}
		lb.log.Info("target unused", slog.String("target", name), slog.Int("brokenRequests", len(t.inflight)))
	})
	return nil
}

// Traffic turns the steady traffic on or off.
func (lb *LoadBalancer) Traffic(on bool) {
	lb.mu.Lock()
	lb.traffic = on
	lb.mu.Unlock()
	lb.log.Info("traffic", slog.Bool("on", on))
}

// Status reports every target and the counts so far.
func (lb *LoadBalancer) Status() Status {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	s := Status{Traffic: lb.traffic, Counts: lb.counts}
	s.Counts.Reasons = map[string]int{}
	for k, v := range lb.counts.Reasons {
		s.Counts.Reasons[k] = v
	}
	for _, name := range lb.order {
		t := lb.targets[name]
		s.Targets = append(s.Targets, TargetStatus{Name: t.name, State: t.state, LastCheck: t.lastCheck, InFlight: len(t.inflight)})
	}
	return s
}

// check health-checks a target until it is deregistered. A new target is
// healthy after one pass; an unhealthy one needs the healthy threshold.
func (lb *LoadBalancer) check(ctx context.Context, t *target) {
	defer lb.wg.Done()
	for {
		pass, what := lb.probe(ctx, t.addr)
		lb.mu.Lock()
		if t.state == StateDraining || t.state == StateUnused {
			lb.mu.Unlock()
			return
		}
		t.lastCheck = what
		before := t.state
		if pass {
			t.passes, t.fails = t.passes+1, 0
			if t.state == StateInitial || (t.state == StateUnhealthy && t.passes >= lb.cfg.Check.Healthy) {
				t.state = StateHealthy
			}
		} else {
			t.passes, t.fails = 0, t.fails+1
			if t.fails >= lb.cfg.Check.Unhealthy {
				t.state = StateUnhealthy
			}
		}
		if t.state != before {
			lb.log.Info("target health", slog.String("target", t.name), slog.String("state", t.state), slog.String("check", what))
		}
		lb.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(lb.cfg.Check.Interval):
		}
	}
}

// probe runs one health check and says what it saw.
func (lb *LoadBalancer) probe(ctx context.Context, addr string) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, lb.cfg.Check.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+lb.cfg.Check.Path, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := lb.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return false, fmt.Sprintf("GET %s timed out after %s", lb.cfg.Check.Path, lb.cfg.Check.Timeout)
		}
		return false, fmt.Sprintf("GET %s failed: connection refused or reset", lb.cfg.Check.Path)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	what := fmt.Sprintf("GET %s answered %d", lb.cfg.Check.Path, resp.StatusCode)
	return lb.cfg.Check.Matcher.Match(resp.StatusCode), what
}

// send routes one request to the next healthy target, round-robin.
func (lb *LoadBalancer) send(ctx context.Context) {
	lb.mu.Lock()
	if !lb.traffic {
		lb.mu.Unlock()
		return
	}
	lb.reqID++
	id := lb.reqID
	work := lb.cfg.Work.Short
	if id%lb.cfg.Work.LongEvery == 0 {
		work = lb.cfg.Work.Long
	}
	lb.counts.Sent++
	var t *target
	for range lb.order {
		name := lb.order[lb.next%len(lb.order)]
		lb.next++
		if c := lb.targets[name]; c.state == StateHealthy {
			t = c
			break
		}
	}
	if t == nil {
		lb.failLocked(FailNoTarget, "")
		lb.mu.Unlock()
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	t.inflight[id] = cancel
	lb.counts.InFlight++
	lb.mu.Unlock()

	lb.wg.Add(1)
	go func() {
		defer lb.wg.Done()
		defer cancel()
		reason := lb.do(rctx, t.addr, work)
		lb.mu.Lock()
		defer lb.mu.Unlock()
		delete(t.inflight, id)
		lb.counts.InFlight--
		switch {
		case reason == "":
			lb.counts.OK++
		case ctx.Err() != nil:
			// The probe itself is stopping; not the deployment's fault.
		case rctx.Err() != nil:
			lb.failLocked(FailCut, t.name)
		default:
			lb.failLocked(reason, t.name)
		}
	}()
}

func (lb *LoadBalancer) failLocked(reason, target string) {
	lb.counts.Failed++
	lb.counts.Reasons[reason]++
	if lb.counts.FirstFailure == "" {
		lb.counts.FirstFailure = reason
		if target != "" {
			lb.counts.FirstFailure += " (" + target + ")"
		}
	}
}

// do sends one request and returns why it failed, or "".
func (lb *LoadBalancer) do(ctx context.Context, addr string, work time.Duration) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/work?ms=%d", addr, work.Milliseconds()), nil)
	if err != nil {
		return FailRefused
	}
	resp, err := lb.client.Do(req)
	if err != nil {
		return FailRefused
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return FailStatus
	}
	var body struct {
		Done bool `json:"done"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil || !body.Done {
		return FailBody
	}
	return ""
}
