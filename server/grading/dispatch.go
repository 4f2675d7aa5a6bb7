package grading

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/grader/jobs"
	"coldstart/server/store"
)

// DispatchOptions configure a Dispatcher.
type DispatchOptions struct {
	Conn       *nats.Conn
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Streams    jobs.StreamOptions
	// MaxRuns is how many claims may end without an outcome before the
	// answer is recorded as not gradable (default 3).
	MaxRuns int
	// StaleAfter is how long a published job may go unclaimed or
	// unfinished before it is published again (default 15m).
	StaleAfter time.Duration
	// Poll is how often the outbox looks for jobs even when not woken.
	Poll time.Duration
	// LocalNode names the node in this process, if any: the jobs it held
	// when the process died are published again at once at start.
	LocalNode string
}

// Dispatcher is the web server's side of grading on nodes: it publishes
// stored answers as jobs (an outbox: what NATS did not take is published
// when it does), grants leases, records outcomes and relays progress.
type Dispatcher struct {
	store  *store.Store
	course func() *content.Course
	hub    *Hub
	opts   DispatchOptions
	logger *slog.Logger
	js     jetstream.JetStream
	wake   chan struct{}
	nodes  *Nodes
	// started is when Run began; see heldElsewhere.
	started time.Time

	onFinish atomic.Pointer[func(userID int64)]
	// leases maps a running submission to its newest lease, so the
	// progress of a node that lost its lease is not shown.
	leases sync.Map
	// published counts publications; stale counts outcomes discarded for
	// an old lease (both for tests and the closing figures).
	published, stale atomic.Int64

	metrics *metrics
}

// NewDispatcher returns a dispatcher; Run starts it.
func NewDispatcher(st *store.Store, course func() *content.Course, hub *Hub, o DispatchOptions) (*Dispatcher, error) {
	if o.Conn == nil {
		return nil, errors.New("grading: the dispatcher needs a NATS connection")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxRuns <= 0 {
		o.MaxRuns = 3
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 15 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	js, err := jetstream.New(o.Conn)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	d := &Dispatcher{store: st, course: course, hub: hub, opts: o, logger: o.Logger, js: js,
		wake: make(chan struct{}, 1), nodes: newNodes(time.Now)}
	d.metrics = newMetrics(st, o.Registerer)
	return d, nil
}

// Hub returns the hub progress is relayed to.
func (d *Dispatcher) Hub() *Hub { return d.hub }

// OnFinish sets a function called after each recorded result.
func (d *Dispatcher) OnFinish(f func(userID int64)) { d.onFinish.Store(&f) }

// Notify wakes the outbox because an answer was stored.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Nodes returns the nodes heard from lately.
func (d *Dispatcher) Nodes() []NodeStatus { return d.nodes.live() }

// Capacity is how many gradings the connected nodes run at once.
func (d *Dispatcher) Capacity() int { return d.nodes.capacity() }

// Ready says whether answers are being graded: some node is connected and
// its engine answers.
func (d *Dispatcher) Ready(ctx context.Context) error {
	if d.opts.Conn.Status() != nats.CONNECTED {
		return errors.New("the grading queue (NATS) is not connected")
	}
	return d.nodes.ready()
}

// Run publishes, leases and records until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := jobs.EnsureStreams(sctx, d.js, d.opts.Streams)
		cancel()
		if err == nil {
			break
		}
		d.logger.Warn("the grading streams cannot be set up yet; answers wait", slog.Any("err", err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	d.started = time.Now()
	if d.opts.LocalNode != "" {
		if n, err := d.store.RepublishNode(ctx, d.opts.LocalNode); err != nil {
			return err
		} else if n > 0 {
			d.logger.Info("gradings interrupted by the last stop are queued again", slog.Int64("jobs", n))
		}
	}
	var subs []*nats.Subscription
	for subject, h := range map[string]nats.MsgHandler{
		jobs.ClaimSubject:     d.onClaim,
		jobs.ReleaseSubject:   d.onRelease,
		jobs.ProgressWildcard: d.onProgress,
		jobs.HeartbeatSubject: d.onHeartbeat,
	} {
		sub, err := d.opts.Conn.Subscribe(subject, h)
		if err != nil {
			return fmt.Errorf("subscribe to %s: %w", subject, err)
		}
		subs = append(subs, sub)
	}
	defer func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
	}()
	_ = d.opts.Conn.Publish(jobs.PingSubject, nil)
	done := make(chan struct{})
	go func() { defer close(done); d.record(ctx) }()
	d.outbox(ctx)
	<-done
	return nil
}

// outbox publishes stored answers while fewer than a window of jobs are on
// the stream: jobs are ordered (round-robin across students) as late as
// possible, when a node is about to be free.
func (d *Dispatcher) outbox(ctx context.Context) {
	t := time.NewTicker(d.opts.Poll)
	defer t.Stop()
	failing := false
	for {
		err := d.publishSome(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			d.logger.Warn("publish answers to the grading queue; they wait in the database", slog.Any("err", err))
			failing = true
		case err == nil && failing:
			d.logger.Info("the grading queue takes answers again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-t.C:
		}
	}
}

// window is how many jobs may wait on the stream: twice what the nodes
// whose engine answers run at once, and none while no such node is
// connected (answers wait in the database, in fair order).
func (d *Dispatcher) window() int { return 2 * d.nodes.capacity() }

func (d *Dispatcher) publishSome(ctx context.Context) error {
	stale, err := d.store.StaleJobs(ctx, time.Now().Add(-d.opts.StaleAfter), 50)
	if err != nil {
		return err
	}
	for _, sub := range stale {
		d.logger.Warn("a job had no outcome for too long; published again", slog.Int64("submission", sub.ID))
		if err := d.publish(ctx, sub); err != nil {
			return err
		}
	}
	for {
		inFlight, err := d.store.InFlight(ctx)
		if err != nil {
			return err
		}
		room := d.window() - inFlight
		if room <= 0 {
			return nil
		}
		subs, err := d.store.ToPublish(ctx, room)
		if err != nil || len(subs) == 0 {
			return err
		}
		for _, sub := range subs {
			if err := d.publish(ctx, sub); err != nil {
				return err
			}
		}
	}
}

func (d *Dispatcher) publish(ctx context.Context, sub *store.Submission) error {
	ex := findExercise(d.course(), sub.Exercise)
	if ex == nil {
		d.finishUngraded(ctx, sub.ID, sub.UserID, sub.Exercise, exerciseRemovedReason)
		return nil
	}
	g, err := d.store.NextGeneration(ctx, sub.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	spec := SpecOf(ex)
	b, err := json.Marshal(jobs.Job{Format: jobs.Format, Submission: sub.ID, Generation: g, Spec: spec,
		SpecHash: jobs.HashSpec(spec), Seed: sub.Seed, Body: sub.Body, Queued: sub.CreatedAt})
	if err != nil {
		return fmt.Errorf("encode a job: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	id := "job-" + strconv.FormatInt(sub.ID, 10) + "-" + strconv.FormatInt(g, 10)
	ack, err := d.js.Publish(pctx, jobs.JobsSubject, b, jetstream.WithMsgID(id))
	if err != nil {
		return fmt.Errorf("publish a job: %w", err)
	}
	d.published.Add(1)
	d.logger.Debug("published", slog.Int64("submission", sub.ID), slog.Int64("user", sub.UserID), slog.Int64("generation", g))
	return d.store.MarkPublished(ctx, sub.ID, g, ack.Sequence)
}

func (d *Dispatcher) onClaim(m *nats.Msg) {
	var c jobs.Claim
	if err := json.Unmarshal(m.Data, &c); err != nil {
		d.reply(m, jobs.Lease{Reason: "not a claim"})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if held, why := d.heldElsewhere(ctx, c); held {
		d.reply(m, jobs.Lease{Retry: true, Reason: why})
		return
	}
	lease, err := d.store.ClaimLeased(ctx, c.Submission, c.Generation, c.Node, d.opts.MaxRuns)
	switch {
	case err == nil:
		d.leases.Store(c.Submission, lease)
		d.hub.Reset(c.Submission)
		d.hub.Publish(c.Submission, Update{Type: "running", Title: "Starting the grader on node " + c.Node})
		d.reply(m, jobs.Lease{OK: true, Lease: lease})
	case errors.Is(err, store.ErrPoison):
		d.logger.Warn("a job failed on every try; recorded as not gradable", slog.Int64("submission", c.Submission),
			slog.String("last_node", c.Node))
		sub, err := d.store.Submission(ctx, c.Submission)
		if err == nil {
			d.finishUngraded(ctx, sub.ID, sub.UserID, sub.Exercise, fmt.Sprintf("%d tries to grade this answer ended without a verdict "+
				"(a grader node stopped or lost its connection each time, the last on node %q)", d.opts.MaxRuns, c.Node))
		}
		d.reply(m, jobs.Lease{Reason: "failed too often"})
	case errors.Is(err, store.ErrNotFound):
		d.reply(m, jobs.Lease{Reason: "graded already, or published again since"})
	default:
		d.logger.Warn("claim a job", slog.Int64("submission", c.Submission), slog.Any("err", err))
		d.reply(m, jobs.Lease{Retry: true, Reason: "the database is busy"})
	}
}

// heldElsewhere says whether another node still grades the job: NATS
// delivers a job again when its heartbeats lapsed, as they do while NATS
// itself restarts, and a node that is alive and lists the job in its
// heartbeats keeps it. Just after start, before every node has been heard
// from, a job held by a node not heard from yet waits too.
func (d *Dispatcher) heldElsewhere(ctx context.Context, c jobs.Claim) (bool, string) {
	holder, err := d.store.RunningOn(ctx, c.Submission)
	if err != nil || holder == "" || holder == c.Node {
		return false, ""
	}
	holds, heard := d.nodes.holds(holder, c.Submission)
	switch {
	case holds:
		return true, "node " + holder + " still grades it"
	case !heard && time.Since(d.started) < holdAfter:
		return true, "waiting to hear from node " + holder
	}
	return false, ""
}

func (d *Dispatcher) onRelease(m *nats.Msg) {
	var r jobs.Release
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.store.ReleaseLeased(ctx, r.Submission, r.Lease); err == nil {
		d.hub.Reset(r.Submission)
		d.hub.Publish(r.Submission, Update{Type: "progress", Message: "This answer waits in the queue again: " + r.Reason + "."})
	}
	_ = m.Respond([]byte("{}"))
}

func (d *Dispatcher) onProgress(m *nats.Msg) {
	var p jobs.Progress
	if err := json.Unmarshal(m.Data, &p); err != nil {
		return
	}
	if l, ok := d.leases.Load(p.Submission); !ok || l.(int64) != p.Lease {
		return
	}
	e := p.Event
	d.hub.Publish(p.Submission, Update{Type: string(e.Type), CheckID: e.CheckID, Title: e.Title, Message: e.Message, Check: e.Check})
}

func (d *Dispatcher) onHeartbeat(m *nats.Msg) {
	var hb jobs.Heartbeat
	if err := json.Unmarshal(m.Data, &hb); err != nil || hb.Node == "" {
		return
	}
	d.nodes.seen(hb)
	d.metrics.busy.Set(float64(d.nodes.busy()))
	d.Notify()
}

func (d *Dispatcher) reply(m *nats.Msg, l jobs.Lease) {
	b, _ := json.Marshal(l)
	_ = m.Respond(b)
}

// record takes outcomes off the results stream and stores them. An outcome
// that cannot be stored (database locked, disk full) stays on the stream
// and comes back with growing delays.
func (d *Dispatcher) record(ctx context.Context) {
	var cons jetstream.Consumer
	for cons == nil {
		c, err := d.js.Consumer(ctx, jobs.ResultsStream, jobs.RecorderName)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			sleep(ctx, time.Second)
			continue
		}
		cons = c
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) { d.recordOne(ctx, msg) })
	if err != nil {
		d.logger.Error("take outcomes off the results stream", slog.Any("err", err))
		return
	}
	<-ctx.Done()
	cc.Stop()
}

func (d *Dispatcher) recordOne(ctx context.Context, msg jetstream.Msg) {
	var o jobs.Outcome
	if err := json.Unmarshal(msg.Data(), &o); err != nil || o.Result == nil {
		d.logger.Error("a message on the results stream is not an outcome; dropped", slog.Any("err", err))
		_ = msg.Term()
		return
	}
	res := o.Result
	body, err := json.Marshal(res)
	if err != nil {
		_ = msg.Term()
		return
	}
	out := store.Outcome{Node: o.Node, Verdict: string(res.Status), Score: res.Score, Reason: res.Reason, Result: body,
		Counted: res.Gradable && res.Status != grader.StatusError}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = d.store.FinishLeased(wctx, o.Submission, o.Lease, out)
	switch {
	case errors.Is(err, store.ErrStaleLease):
		d.stale.Add(1)
		d.logger.Info("an outcome from a lease since given to another node was discarded",
			slog.Int64("submission", o.Submission), slog.String("node", o.Node), slog.Int64("lease", o.Lease))
		_ = msg.Ack()
		return
	case err != nil:
		meta, _ := msg.Metadata()
		delay := time.Second
		if meta != nil {
			delay = min(time.Duration(1<<min(meta.NumDelivered, 6))*time.Second, time.Minute)
		}
		d.logger.Error("record a grading result; trying again", slog.Int64("submission", o.Submission),
			slog.Duration("in", delay), slog.Any("err", err))
		_ = msg.NakWithDelay(delay)
		return
	}
	_ = msg.Ack()
	d.leases.Delete(o.Submission)
	sub, err := d.store.Submission(wctx, o.Submission)
	if err == nil {
		if f := d.onFinish.Load(); f != nil {
			(*f)(sub.UserID)
		}
		d.metrics.record(sub.Exercise, res, o.Took)
	}
	d.logger.Info("graded", slog.Int64("submission", o.Submission), slog.String("node", o.Node),
		slog.String("verdict", string(res.Status)), slog.Float64("score", res.Score), slog.Duration("took", o.Took))
	d.hub.Publish(o.Submission, Update{Type: "done", Verdict: string(res.Status)})
	d.Notify()
}

func (d *Dispatcher) finishUngraded(ctx context.Context, id, userID int64, exercise, reason string) {
	res := &grader.Result{Exercise: exercise, Status: grader.StatusError, Checks: []grader.Check{}, Reason: reason}
	body, _ := json.Marshal(res)
	if err := d.store.FinishUngraded(ctx, id, reason, body); err != nil {
		d.logger.Error("record an ungraded answer", slog.Int64("submission", id), slog.Any("err", err))
		return
	}
	if f := d.onFinish.Load(); f != nil {
		(*f)(userID)
	}
	d.metrics.record(exercise, res, 0)
	d.hub.Publish(id, Update{Type: "done", Verdict: string(grader.StatusError)})
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Drain waits, at most limit, until every outcome on the results stream is
// recorded: at shutdown, the verdicts of gradings that finished in the
// grace period are recorded before the process ends.
func (d *Dispatcher) Drain(ctx context.Context, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for ctx.Err() == nil {
		s, err := d.js.Stream(ctx, jobs.ResultsStream)
		if err != nil {
			return
		}
		info, err := s.Info(ctx)
		if err != nil || info.State.Msgs == 0 {
			return
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

// WaitForNode waits, at most limit, until the named node is heard from
// past its start (it takes jobs, or its engine does not answer), so that a
// server whose node runs in-process is ready when it says so.
func (d *Dispatcher) WaitForNode(ctx context.Context, name string, limit time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for !d.nodes.settled(name) {
		if ctx.Err() != nil {
			return false
		}
		sleep(ctx, 10*time.Millisecond)
	}
	return true
}
