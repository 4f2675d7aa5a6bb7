package jobs

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

	"coldstart/grader"
)

// Grader grades one answer on this node's container engine; *grader.Engine
// is one.
type Grader interface {
	Grade(ctx context.Context, req grader.Request) *grader.Result
	Ready(ctx context.Context) error
}

// NodeOptions configure a Node.
type NodeOptions struct {
	Name    string
	Workers int
	Grader  Grader
	Conn    *nats.Conn
	Logger  *slog.Logger
	// Sweep removes what an earlier run of this node left on its engine;
	// it completes before the node takes a job.
	Sweep func(ctx context.Context) (int, error)
	// Grace is how long running gradings may go on once Run's context
	// ends; those still running then are handed back.
	Grace time.Duration
	// Heartbeat is how often the node says it is alive (default 2s).
	Heartbeat time.Duration
}

// Node takes jobs from the job stream and grades them.
type Node struct {
	opts   NodeOptions
	js     jetstream.JetStream
	logger *slog.Logger

	busy    atomic.Int64
	graded  atomic.Int64
	holding sync.Map // submission id → struct{}
	started time.Time
	// engineDown holds why the engine did not answer at the last grading,
	// or nil; workers take no job while it is set.
	engineDown atomic.Pointer[string]
	swept      atomic.Bool
	// taking is set once the node has found the job stream.
	taking atomic.Bool
	// beatNow asks for a heartbeat at once: the web server just asked, or
	// the node has just become able to grade.
	beatNow chan struct{}
}

// NewNode returns a node; Run starts it.
func NewNode(o NodeOptions) (*Node, error) {
	if o.Conn == nil || o.Grader == nil || o.Name == "" {
		return nil, errors.New("jobs: a node needs a NATS connection, a grader and a name")
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Grace <= 0 {
		o.Grace = 20 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 2 * time.Second
	}
	js, err := jetstream.New(o.Conn)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return &Node{opts: o, js: js, logger: o.Logger.With(slog.String("node", o.Name)), started: time.Now(),
		beatNow: make(chan struct{}, 1)}, nil
}

// Name is the node's name as results carry it.
func (n *Node) Name() string { return n.opts.Name }

// Busy is how many gradings run now.
func (n *Node) Busy() int { return int(n.busy.Load()) }

// Graded is how many outcomes the node has published.
func (n *Node) Graded() int64 { return n.graded.Load() }

// Ready says whether the node can grade: its engine answers and its
// leftovers were swept.
func (n *Node) Ready(ctx context.Context) error {
	if err := n.opts.Grader.Ready(ctx); err != nil {
		return err
	}
	if !n.swept.Load() {
		return errors.New("the start-up sweep has not run yet")
	}
	if !n.taking.Load() {
		return errors.New("waiting for the web server's job stream")
	}
	return nil
}

// Run grades jobs until ctx ends, then lets running gradings finish within
// the grace period and hands back those that did not.
func (n *Node) Run(ctx context.Context) error {
	gradeCtx, stopGradings := context.WithCancel(context.WithoutCancel(ctx))
	defer stopGradings()
	go n.heartbeat(ctx)
	if err := n.sweep(ctx); err != nil {
		return err
	}
	cons, err := gradersConsumer(ctx, n.js, n.logger)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("the job stream: %w", err)
	}
	ackWait := cons.CachedInfo().Config.AckWait
	if ackWait <= 0 {
		ackWait = DefaultAckWait
	}
	n.logger.Info("grader node taking jobs", slog.Int("workers", n.opts.Workers), slog.Duration("ack_wait", ackWait))
	var wg sync.WaitGroup
	for i := 0; i < n.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.work(ctx, gradeCtx, cons, ackWait)
		}()
	}
	n.taking.Store(true)
	n.beat()
	<-ctx.Done()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(n.opts.Grace):
		n.logger.Warn("gradings still running at shutdown are stopped and handed back")
		stopGradings()
		<-done
	}
	return nil
}

// sweep waits for the engine, then removes what an earlier run left.
func (n *Node) sweep(ctx context.Context) error {
	defer n.beat()
	if n.opts.Sweep == nil {
		n.swept.Store(true)
		return nil
	}
	for logged := false; ; {
		err := n.opts.Grader.Ready(ctx)
		if err == nil {
			break
		}
		reason := err.Error()
		n.engineDown.Store(&reason)
		if !logged {
			n.logger.Warn("the container engine does not answer; the node waits for it", slog.Any("err", err))
			logged = true
			n.beat()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	n.engineDown.Store(nil)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	removed, err := n.opts.Sweep(sctx)
	switch {
	case err != nil:
		n.logger.Warn("remove containers left by an earlier run", slog.Int("removed", removed), slog.Any("err", err))
	case removed > 0:
		n.logger.Info("removed containers left by an earlier run", slog.Int("removed", removed))
	}
	n.swept.Store(true)
	return nil
}

func (n *Node) work(ctx, gradeCtx context.Context, cons jetstream.Consumer, ackWait time.Duration) {
	for ctx.Err() == nil {
		if !n.engineAnswers(ctx) {
			continue
		}
		// A short wait, so that a stopping node is not held by an idle fetch.
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() == nil {
				n.logger.Debug("fetch a job", slog.Any("err", err))
				sleep(ctx, time.Second)
			}
			continue
		}
		for msg := range batch.Messages() {
			n.handle(ctx, gradeCtx, msg, ackWait)
		}
	}
}

// engineAnswers reports whether the worker may take a job; after a grading
// found the engine down it waits for the engine to answer again.
func (n *Node) engineAnswers(ctx context.Context) bool {
	if n.engineDown.Load() == nil {
		return true
	}
	if err := n.opts.Grader.Ready(ctx); err != nil {
		sleep(ctx, 2*time.Second)
		return false
	}
	if n.engineDown.Swap(nil) != nil {
		n.logger.Info("the container engine answers again; gradings resume")
	}
	return true
}

func (n *Node) handle(ctx, gradeCtx context.Context, msg jetstream.Msg, ackWait time.Duration) {
	var job Job
	if err := json.Unmarshal(msg.Data(), &job); err != nil {
		n.logger.Error("a message on the job stream is not a job; dropped", slog.Any("err", err))
		_ = msg.Term()
		return
	}
	log := n.logger.With(slog.Int64("submission", job.Submission))
	if job.Format != Format {
		// Another version of Coldstart published it: a node of that
		// version grades it.
		log.Warn("job of another format refused", slog.Int("format", job.Format), slog.Int("node_format", Format))
		_ = msg.NakWithDelay(30 * time.Second)
		return
	}
	if HashSpec(job.Spec) != job.SpecHash {
		log.Error("job's exercise does not match its hash; refused")
		_ = msg.NakWithDelay(30 * time.Second)
		return
	}
	lease, err := n.claim(ctx, job)
	if err != nil {
		// The web server does not answer: the job waits for it.
		log.Warn("claim a job", slog.Any("err", err))
		_ = msg.NakWithDelay(2 * time.Second)
		return
	}
	if !lease.OK && lease.Retry {
		_ = msg.NakWithDelay(2 * time.Second)
		return
	}
	if !lease.OK {
		log.Info("job dropped", slog.String("reason", lease.Reason))
		_ = msg.Ack()
		return
	}
	n.busy.Add(1)
	n.holding.Store(job.Submission, struct{}{})
	defer func() {
		n.holding.Delete(job.Submission)
		n.busy.Add(-1)
	}()

	// In-progress acks keep the job ours while it is graded and until
	// its outcome is safely on the results stream.
	beat, stopBeat := context.WithCancel(context.Background())
	defer stopBeat()
	go func() {
		t := time.NewTicker(max(ackWait/3, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-beat.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()

	start := time.Now()
	res := n.opts.Grader.Grade(gradeCtx, grader.Request{
		Spec: job.Spec, Seed: job.Seed, Body: job.Body,
		ID:     "sub-" + strconv.FormatInt(job.Submission, 10),
		Queued: start.Sub(job.Queued),
		Events: func(e grader.Event) {
			b, _ := json.Marshal(Progress{Submission: job.Submission, Lease: lease.Lease, Event: e})
			_ = n.opts.Conn.Publish(ProgressSubject(job.Submission), b)
		},
	})
	if res.Status == grader.StatusError && errors.Is(res.Cause, grader.ErrEngineUnavailable) && gradeCtx.Err() == nil {
		reason := res.Reason
		if n.engineDown.Swap(&reason) == nil {
			log.Warn("the container engine does not answer; gradings wait for it", slog.String("reason", reason))
		}
		n.release(job, lease, "the container engine of node "+n.opts.Name+" does not answer")
		_ = msg.NakWithDelay(2 * time.Second)
		return
	}
	if gradeCtx.Err() != nil && res.Status == grader.StatusError {
		n.release(job, lease, "node "+n.opts.Name+" stopped")
		_ = msg.Nak()
		log.Info("grading interrupted by shutdown; handed back")
		return
	}
	res.Node = n.opts.Name
	out, err := json.Marshal(Outcome{Format: Format, Submission: job.Submission, Lease: lease.Lease, Node: n.opts.Name,
		Result: res, Took: time.Since(start)})
	if err != nil {
		log.Error("encode an outcome", slog.Any("err", err))
		return
	}
	id := "outcome-" + strconv.FormatInt(job.Submission, 10) + "-" + strconv.FormatInt(lease.Lease, 10)
	for attempt := 0; ; attempt++ {
		pctx, cancel := context.WithTimeout(gradeCtx, 5*time.Second)
		_, err = n.js.Publish(pctx, ResultsSubject, out, jetstream.WithMsgID(id))
		cancel()
		if err == nil {
			break
		}
		if gradeCtx.Err() != nil || errors.Is(err, nats.ErrConnectionClosed) || time.Since(start) > publishLimit {
			// Not acked: the job is delivered again and graded anew.
			log.Warn("publish an outcome; the job is graded again", slog.Any("err", err))
			return
		}
		log.Warn("publish an outcome; trying again", slog.Any("err", err))
		sleep(gradeCtx, min(time.Duration(attempt+1)*500*time.Millisecond, 5*time.Second))
	}
	stopBeat()
	if err := msg.Ack(); err != nil {
		log.Debug("ack a job", slog.Any("err", err))
	}
	n.graded.Add(1)
	log.Info("graded", slog.String("verdict", string(res.Status)), slog.Duration("took", time.Since(start)))
}

// publishLimit bounds how long a node tries to hand over one outcome (the
// grading included); past it the job is left to be delivered again, so
// that a node that can heartbeat but not publish does not hold it forever.
const publishLimit = 5 * time.Minute

func (n *Node) claim(ctx context.Context, job Job) (Lease, error) {
	var l Lease
	b, _ := json.Marshal(Claim{Submission: job.Submission, Generation: job.Generation, Node: n.opts.Name})
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	reply, err := n.opts.Conn.RequestWithContext(cctx, ClaimSubject, b)
	if err != nil {
		return l, fmt.Errorf("the web server did not answer the claim: %w", err)
	}
	if err := json.Unmarshal(reply.Data, &l); err != nil {
		return l, fmt.Errorf("the web server's answer to a claim: %w", err)
	}
	return l, nil
}

// release hands a job back; if the web server does not hear it, the next
// claim of the job takes over the lease all the same.
func (n *Node) release(job Job, l Lease, reason string) {
	b, _ := json.Marshal(Release{Submission: job.Submission, Lease: l.Lease, Node: n.opts.Name, Reason: reason})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := n.opts.Conn.RequestWithContext(ctx, ReleaseSubject, b); err != nil {
		n.logger.Debug("hand a job back", slog.Any("err", err))
	}
}

func (n *Node) heartbeat(ctx context.Context) {
	t := time.NewTicker(n.opts.Heartbeat)
	defer t.Stop()
	if sub, err := n.opts.Conn.Subscribe(PingSubject, func(*nats.Msg) { n.beat() }); err == nil {
		defer func() { _ = sub.Unsubscribe() }()
	}
	for {
		engine := "ok"
		if r := n.engineDown.Load(); r != nil {
			engine = *r
		} else if !n.swept.Load() || !n.taking.Load() {
			engine = EngineStarting
		}
		var holding []int64
		n.holding.Range(func(k, _ any) bool { holding = append(holding, k.(int64)); return true })
		b, _ := json.Marshal(Heartbeat{Node: n.opts.Name, Format: Format, Workers: n.opts.Workers, Busy: n.Busy(),
			Graded: n.Graded(), Engine: engine, Started: n.started, Holding: holding})
		_ = n.opts.Conn.Publish(HeartbeatSubject, b)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.beatNow:
		}
	}
}

func (n *Node) beat() {
	select {
	case n.beatNow <- struct{}{}:
	default:
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
