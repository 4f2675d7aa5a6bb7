// Package grading runs the grading jobs stored in the database on a bounded
// pool of workers and streams their progress to the pages following them.
package grading

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/server/store"
)

// Grader grades submissions; *grader.Engine is one.
type Grader interface {
	Grade(ctx context.Context, req grader.Request) *grader.Result
	Variant(spec grader.Spec, seed int64) (*grader.Variant, error)
	Ready(ctx context.Context) error
	// Form is the answer sheet of an exercise whose kind has one, else nil.
	Form(spec grader.Spec) (*grader.Form, error)
}

// Options configure a Pool.
type Options struct {
	Workers int // default: one per CPU core
	// Grace is how long running gradings may go on after shutdown begins;
	// those still running then are stopped and queued again.
	Grace time.Duration
	// Poll is how often idle workers look at the queue even when not woken.
	Poll       time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Sweep removes what an earlier run of this server left on the
	// container engine. It completes before any worker takes a job, and it
	// never runs while a grading does: a grading resumed after a crash must
	// not lose its containers to the sweep. When the engine does not answer
	// at start, the sweep runs as soon as it does.
	Sweep func(ctx context.Context) (int, error)
}

// Pool is the bounded set of grading workers.
type Pool struct {
	store  *store.Store
	grader Grader
	course func() *content.Course
	hub    *Hub
	opts   Options
	logger *slog.Logger
	wake   chan struct{}

	onFinish atomic.Pointer[func(userID int64)]

	// gate is held shared by every grading and exclusively by the sweep.
	gate         sync.RWMutex
	sweepPending atomic.Bool
	// engineDown is set when a grading found the container engine not
	// answering; workers then take no job until it answers again.
	engineDown atomic.Bool

	metrics *metrics
}

// New returns a pool that grades the jobs in st against the exercises of
// the current course.
func New(st *store.Store, g Grader, course func() *content.Course, hub *Hub, opts Options) *Pool {
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.Grace <= 0 {
		opts.Grace = 20 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &Pool{store: st, grader: g, course: course, hub: hub, opts: opts, logger: opts.Logger,
		wake: make(chan struct{}, opts.Workers)}
	p.metrics = newMetrics(st, opts.Registerer)
	return p
}

// Hub returns the hub the pool publishes progress to.
func (p *Pool) Hub() *Hub { return p.hub }

// Workers is the size of the pool.
func (p *Pool) Workers() int { return p.opts.Workers }

// Capacity is how many gradings run at once: the workers.
func (p *Pool) Capacity() int { return p.opts.Workers }

// Ready says whether the pool's container engine answers.
func (p *Pool) Ready(ctx context.Context) error { return p.grader.Ready(ctx) }

// OnFinish sets a function called after each recorded result, with the
// submitter's user id (the web server drops its cached progress).
func (p *Pool) OnFinish(f func(userID int64)) { p.onFinish.Store(&f) }

// Notify wakes an idle worker because a job was queued.
func (p *Pool) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run grades jobs until ctx ends, then lets running gradings finish within
// the grace period, queues again those that did not, and returns.
func (p *Pool) Run(ctx context.Context) {
	// Gradings get their own context: they outlive ctx by the grace period.
	gradeCtx, stopGradings := context.WithCancel(context.WithoutCancel(ctx))
	defer stopGradings()
	if p.opts.Sweep != nil {
		p.sweepPending.Store(true)
		p.sweep(ctx)
	}
	var wg sync.WaitGroup
	for i := 0; i < p.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.work(ctx, gradeCtx)
		}()
	}
	<-ctx.Done()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(p.opts.Grace):
		p.logger.Warn("gradings still running at shutdown are stopped and queued again")
		stopGradings()
		<-done
	}
}

func (p *Pool) work(ctx, gradeCtx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-timer.C:
		}
		for ctx.Err() == nil && p.engineReady(ctx) {
			sub, err := p.store.ClaimJob(ctx)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				if ctx.Err() == nil {
					p.logger.Error("take a grading job", slog.Any("err", err))
				}
				break
			}
			p.grade(gradeCtx, sub)
		}
		timer.Reset(p.opts.Poll)
	}
}

func (p *Pool) grade(ctx context.Context, sub *store.Submission) {
	p.gate.RLock()
	defer p.gate.RUnlock()
	p.metrics.busy.Inc()
	defer p.metrics.busy.Dec()
	start := time.Now()
	log := p.logger.With(slog.Int64("submission", sub.ID), slog.String("exercise", sub.Exercise))
	p.hub.Reset(sub.ID)
	p.hub.Publish(sub.ID, Update{Type: "running", Title: "Starting the grader"})

	var res *grader.Result
	ex := findExercise(p.course(), sub.Exercise)
	if ex == nil {
		res = &grader.Result{Exercise: sub.Exercise, Status: grader.StatusError, Checks: []grader.Check{},
			Reason: exerciseRemovedReason}
	} else {
		res = p.grader.Grade(ctx, grader.Request{
			Spec: SpecOf(ex), Seed: sub.Seed, Body: sub.Body,
			ID:     "sub-" + strconv.FormatInt(sub.ID, 10),
			Queued: sub.StartedAt.Sub(sub.CreatedAt),
			Events: func(e grader.Event) {
				p.hub.Publish(sub.ID, Update{Type: string(e.Type), CheckID: e.CheckID, Title: e.Title, Message: e.Message, Check: e.Check})
			},
		})
	}

	// The engine did not answer: the answer says nothing about the
	// submission, so it goes back to the queue and is graded once the
	// engine answers again.
	if ctx.Err() == nil && res.Status == grader.StatusError && errors.Is(res.Cause, grader.ErrEngineUnavailable) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.store.RequeueJob(rctx, sub.ID); err != nil {
			log.Error("queue again a grading the engine could not run", slog.Any("err", err))
		}
		if !p.engineDown.Swap(true) {
			log.Warn("the container engine does not answer; gradings wait for it", slog.String("reason", res.Reason))
		}
		p.hub.Publish(sub.ID, Update{Type: "progress", Message: "The container engine does not answer; this answer waits in the queue and is graded as soon as it does."})
		return
	}
	// Stopped by shutdown: the job goes back to the queue for the next start.
	if ctx.Err() != nil && res.Status == grader.StatusError {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.store.RequeueJob(rctx, sub.ID); err != nil {
			log.Error("queue an interrupted grading again", slog.Any("err", err))
		}
		p.hub.Reset(sub.ID)
		log.Info("grading interrupted by shutdown; queued again")
		return
	}
	body, err := json.Marshal(res)
	if err != nil {
		body = []byte(fmt.Sprintf(`{"status":"error","reason":%q}`, err.Error()))
	}
	out := store.Outcome{Verdict: string(res.Status), Score: res.Score, Reason: res.Reason, Result: body,
		Counted: res.Gradable && res.Status != grader.StatusError}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.store.FinishJob(wctx, sub.ID, out); err != nil {
		log.Error("record a grading result", slog.Any("err", err))
		return
	}
	if f := p.onFinish.Load(); f != nil {
		(*f)(sub.UserID)
	}
	p.metrics.record(sub.Exercise, res, time.Since(start))
	log.Info("graded", slog.String("verdict", string(res.Status)), slog.Float64("score", res.Score),
		slog.Duration("took", time.Since(start)))
	p.hub.Publish(sub.ID, Update{Type: "done", Verdict: string(res.Status)})
}

// engineReady reports whether workers may take jobs: after a grading found
// the engine not answering, only once it answers again; and never before the
// start-up sweep has run.
func (p *Pool) engineReady(ctx context.Context) bool {
	if p.engineDown.Load() {
		if err := p.grader.Ready(ctx); err != nil {
			return false
		}
		p.engineDown.Store(false)
		p.logger.Info("the container engine answers again; gradings resume")
	}
	if p.sweepPending.Load() {
		p.sweep(ctx)
	}
	return true
}

// sweep runs the start-up sweep while no grading runs. An engine that does
// not answer leaves it pending for the next try; any other failure is
// logged and not tried again (what is left is removed by the next start).
func (p *Pool) sweep(ctx context.Context) {
	p.gate.Lock()
	defer p.gate.Unlock()
	if !p.sweepPending.Load() {
		return
	}
	if err := p.grader.Ready(ctx); err != nil {
		p.logger.Info("the start-up sweep waits for the container engine", slog.Any("err", err))
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	n, err := p.opts.Sweep(sctx)
	p.sweepPending.Store(false)
	switch {
	case err != nil:
		p.logger.Warn("remove containers left by an earlier run", slog.Int("removed", n), slog.Any("err", err))
	case n > 0:
		p.logger.Info("removed containers left by an earlier run", slog.Int("removed", n))
	}
}

// findExercise looks an exercise up in the course; a reload may have
// removed it since the job was queued.
func findExercise(c *content.Course, id string) *content.Exercise {
	if c == nil {
		return nil
	}
	for _, ex := range c.Exercises {
		if ex.ID == id {
			return ex
		}
	}
	return nil
}
