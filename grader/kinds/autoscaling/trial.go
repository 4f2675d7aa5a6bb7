package autoscaling

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Trial plays one day of traffic against a pool of started tasks while a
// Scaler decides how many of them are in service. The pool's containers
// are started before the day, so that how fast this machine starts a
// container does not change the verdict; a task the scaler launches takes
// the scenario's taskStartSeconds (on the day's clock) before it gets
// traffic, as a Fargate task does while it is provisioned and pulled.
type Trial struct {
	Scenario *Scenario
	Settings Settings
	// Pool holds the address of each started task; at most TaskCap.
	Pool []string
	// Transport carries the requests to the tasks.
	Transport http.RoundTripper
	// Progress receives steps as they happen.
	Progress func(format string, args ...any)
}

// task is one slot of the pool and the ECS task it plays, if any.
type task struct {
	addr    string
	live    bool      // launched and not stopped: billed
	serving bool      // receives traffic
	readyAt time.Time // when a launched task starts serving

	inflight int
	last     time.Time
	busy     float64 // slot-seconds worked
	served   float64 // seconds in service
	routed   int
}

// advance accounts for the time since the last change; mu is held.
func (t *task) advance(now time.Time, slots int) {
	dt := now.Sub(t.last).Seconds()
	if dt > 0 && t.serving {
		t.busy += float64(min(t.inflight, slots)) * dt
		t.served += dt
	}
	t.last = now
}

// Report is what a trial measured.
type Report struct {
	Requests, Slow, Failed int
	P50, P95, P99          time.Duration
	// SlowFrom and SlowTo are the minutes of the day of the first and last
	// slow request.
	SlowFrom, SlowTo float64
	TaskSeconds      float64
	// BeyondCap is the part of TaskSeconds for tasks the grader could not
	// start because of its cap.
	BeyondCap float64
	Peak      int
	Final     int
	Decisions []TimedDecision
	Points    []Datapoint
	// AtMaxOver is how many minutes the service spent at its maximum with
	// the metric above the target.
	AtMaxOver int
	Blocked   int
	// FreeSlotMedian is the median latency of requests that found a free
	// slot: the app's work plus this machine's overhead.
	FreeSlotMedian time.Duration
	// SlowInTask counts the slow requests the service made slow: those
	// that waited in a task's queue long enough to pass the threshold,
	// and those that failed or found no task in service. The other slow
	// ones were slow only on the way through this machine.
	SlowInTask int
}

// TimedDecision is a scaling decision at a minute of the day.
type TimedDecision struct {
	Minute float64
	Decision
}

// Datapoint is one minute's metric.
type Datapoint struct {
	Minute  float64
	Value   float64
	OK      bool
	Desired int
	Serving int
}

type sample struct {
	at      time.Duration
	latency time.Duration
	ok      bool
	free    bool
	// queued is how long the task says the request waited for a slot;
	// known says it answered with that figure.
	queued time.Duration
	known  bool
}

// arrivals spreads each phase's requests evenly over it, following its
// rate as it ramps, so that two trials send the same traffic.
func arrivals(sc *Scenario) []time.Duration {
	var out []time.Duration
	minute := sc.Minute().Seconds()
	start, acc := 0.0, 0.5
	for _, ph := range sc.Traffic {
		length := ph.Minutes * minute
		to := ph.RPS
		if ph.ToRPS != nil {
			to = *ph.ToRPS
		}
		const dt = 0.001
		for t := 0.0; t < length; t += dt {
			rate := ph.RPS + (to-ph.RPS)*(t/length)
			acc -= rate * dt
			for acc <= 0 {
				out = append(out, time.Duration((start+t)*float64(time.Second)))
				acc++
			}
		}
		start += length
	}
	return out
}

// Run plays the day.
func (tr *Trial) Run(ctx context.Context) (*Report, error) {
	sc, st := tr.Scenario, tr.Settings
	if tr.Progress == nil {
		tr.Progress = func(string, ...any) {}
	}
	slots := sc.App.Parallelism
	scaler := NewScaler(st, sc.DesiredCount)
	client := &http.Client{Transport: tr.Transport, Timeout: 10 * time.Second}
	plan := arrivals(sc)
	day := sc.Played()
	scale := sc.TimeScale()

	var mu sync.Mutex
	tasks := make([]*task, len(tr.Pool))
	begin := time.Now().Add(50 * time.Millisecond)
	for i, a := range tr.Pool {
		tasks[i] = &task{addr: a, last: begin}
	}
	phantom := 0 // tasks above the pool, billed but never serving
	launch := func(now time.Time, n int, warm bool) {
		for ; n > 0; n-- {
			var free *task
			for _, t := range tasks {
				if !t.live {
					free = t
					break
				}
			}
			if free == nil {
				phantom++
				continue
			}
			free.advance(now, slots)
			free.live, free.serving = true, warm
			free.readyAt = now.Add(sc.real(sc.TaskStartSeconds))
		}
	}
	stop := func(now time.Time, n int) {
		for ; n > 0 && phantom > 0; n-- {
			phantom--
		}
		for i := len(tasks) - 1; i >= 0 && n > 0; i-- {
			if t := tasks[i]; t.live && !t.serving {
				t.live = false
				n--
			}
		}
		for i := len(tasks) - 1; i >= 0 && n > 0; i-- {
			if t := tasks[i]; t.live {
				t.advance(now, slots)
				t.live, t.serving = false, false
				n--
			}
		}
	}
	launch(begin, scaler.Desired(), true)

	rep := &Report{Peak: scaler.Desired(), SlowFrom: -1}
	samples := make([]sample, len(plan))
	var next int
	pick := func() (*task, bool) {
		var serving []*task
		for _, t := range tasks {
			if t.serving {
				serving = append(serving, t)
			}
		}
		if len(serving) == 0 {
			return nil, false
		}
		// Round robin, as a load balancer's default routing does.
		t := serving[next%len(serving)]
		next++
		return t, true
	}

	clockCtx, stopClock := context.WithCancel(ctx)
	clockDone := make(chan struct{})
	go func() {
		defer close(clockDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		last, minuteEnd := begin, begin.Add(sc.Minute())
		type snap struct {
			busy, served float64
			routed       int
		}
		prev := make([]snap, len(tasks))
		for {
			select {
			case <-clockCtx.Done():
				return
			case now := <-tick.C:
				if now.Before(begin) {
					continue
				}
				mu.Lock()
				live := phantom
				for _, t := range tasks {
					if t.live {
						live++
					}
					if t.live && !t.serving && !now.Before(t.readyAt) {
						t.advance(now, slots)
						t.serving = true
					}
				}
				rep.TaskSeconds += float64(live) * now.Sub(last).Seconds() * scale
				rep.BeyondCap += float64(phantom) * now.Sub(last).Seconds() * scale
				last = now
				if now.Before(minuteEnd) || now.After(begin.Add(day)) {
					mu.Unlock()
					continue
				}
				var busy, served float64
				var routed, serving int
				for i, t := range tasks {
					t.advance(now, slots)
					busy += t.busy - prev[i].busy
					served += t.served - prev[i].served
					routed += t.routed - prev[i].routed
					prev[i] = snap{t.busy, t.served, t.routed}
					if t.serving {
						serving++
					}
				}
				minute := now.Sub(begin).Seconds() / sc.Minute().Seconds()
				dp := Datapoint{Minute: math.Round(minute), OK: served > 0, Desired: scaler.Desired(), Serving: serving}
				switch st.Metric {
				case MetricCPU:
					dp.Value = 100 * busy / (float64(slots) * max(served, 1e-9))
				case MetricMemory:
					dp.Value = sc.App.MemoryPercent
				case MetricALB:
					dp.Value = float64(routed) / max(served, 1e-9) * 60
				}
				if dp.OK && dp.Value > st.Target && scaler.Desired() >= st.Max {
					rep.AtMaxOver++
				}
				if d := scaler.Observe(dp.Minute*60, dp.Value, dp.OK); d != nil {
					rep.Decisions = append(rep.Decisions, TimedDecision{dp.Minute, *d})
					if d.To > d.From {
						launch(now, d.To-d.From, false)
					} else {
						stop(now, d.From-d.To)
					}
					rep.Peak = max(rep.Peak, d.To)
					tr.Progress("minute %.0f: %s at %.0f → desired count %d → %d (%s)", dp.Minute, metricName(st.Metric), dp.Value, d.From, d.To, d.Why)
				}
				rep.Points = append(rep.Points, dp)
				minuteEnd = minuteEnd.Add(sc.Minute())
				mu.Unlock()
			}
		}
	}()

	var wg sync.WaitGroup
	cutoff := begin.Add(day + time.Duration(sc.Trial.GraceMs)*time.Millisecond)
	reqCtx, cancelReqs := context.WithDeadline(ctx, cutoff)
	defer cancelReqs()
	for i, at := range plan {
		if d := time.Until(begin.Add(at)); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		samples[i].at = at
		mu.Lock()
		t, ok := pick()
		if !ok {
			mu.Unlock()
			continue // no task in service: the load balancer answers 503
		}
		now := time.Now()
		t.advance(now, slots)
		samples[i].free = t.inflight < slots
		t.inflight++
		t.routed++
		addr := t.addr
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			ok, queued, known := get(reqCtx, client, addr)
			samples[i].latency, samples[i].ok = time.Since(sent), ok
			samples[i].queued, samples[i].known = queued, known
			mu.Lock()
			t.advance(time.Now(), slots)
			t.inflight--
			mu.Unlock()
		}()
	}
	wg.Wait()
	stopClock()
	<-clockDone
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.Final = scaler.Desired()
	rep.Blocked = scaler.Blocked()
	tr.summarise(rep, samples)
	return rep, nil
}

// get sends one request and returns whether it succeeded and how long the
// task says it waited in its queue (X-Queue-Ms), when it says so.
func get(ctx context.Context, client *http.Client, addr string) (ok bool, queued time.Duration, known bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return false, 0, false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, 0, false
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if ms, perr := strconv.ParseInt(resp.Header.Get("X-Queue-Ms"), 10, 64); perr == nil && ms >= 0 {
		queued, known = time.Duration(ms)*time.Millisecond, true
	}
	return err == nil && resp.StatusCode == http.StatusOK, queued, known
}

func (tr *Trial) summarise(rep *Report, samples []sample) {
	sc := tr.Scenario
	threshold := time.Duration(sc.Latency.ThresholdMs) * time.Millisecond
	work := time.Duration(sc.App.WorkMs) * time.Millisecond
	lat := make([]time.Duration, 0, len(samples))
	var free []time.Duration
	for _, s := range samples {
		rep.Requests++
		l := s.latency
		if !s.ok {
			rep.Failed++
			l = time.Duration(math.MaxInt64)
		} else if s.free {
			free = append(free, l)
		}
		lat = append(lat, l)
		if l > threshold {
			rep.Slow++
			// The time a request spends in its task is the queue the
			// scaling policy left plus the app's work; what it took
			// beyond that was spent between the grader and the task.
			if !s.ok || !s.known || s.queued+work > threshold {
				rep.SlowInTask++
			}
			m := s.at.Seconds() / sc.Minute().Seconds()
			if rep.SlowFrom < 0 {
				rep.SlowFrom = m
			}
			rep.SlowTo = m
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	at := func(q float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[max(0, min(len(lat)-1, int(math.Ceil(q*float64(len(lat))))-1))]
	}
	rep.P50, rep.P95, rep.P99 = at(0.5), at(0.95), at(0.99)
	if len(free) > 0 {
		sort.Slice(free, func(i, j int) bool { return free[i] < free[j] })
		rep.FreeSlotMedian = free[len(free)/2]
	}
}

// SlowPercent is the share of requests over the threshold, failed ones
// included.
func (r *Report) SlowPercent() float64 {
	if r.Requests == 0 {
		return 100
	}
	return 100 * float64(r.Slow) / float64(r.Requests)
}

func metricName(m string) string {
	switch m {
	case MetricCPU:
		return "CPU utilisation"
	case MetricMemory:
		return "memory utilisation"
	case MetricALB:
		return "requests per task per minute"
	}
	return m
}

func (d TimedDecision) String() string {
	return fmt.Sprintf("minute %.0f: %d → %d", d.Minute, d.From, d.To)
}
