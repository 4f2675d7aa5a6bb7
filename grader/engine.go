package grader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"time"
)

// DefaultTimeLimit bounds a grading whose exercise sets no limit of its own.
const DefaultTimeLimit = 60 * time.Second

// Engine grades submissions with the kinds registered on it.
type Engine struct {
	kinds   map[string]Kind
	sandbox Containers
	logger  *slog.Logger
	// TimeLimit caps every grading; an exercise may ask for less.
	TimeLimit time.Duration
}

// NewEngine returns an engine that runs containers in sb (nil: static checks
// only; run phases then end in an error result) with the given kinds.
func NewEngine(sb Containers, logger *slog.Logger, kinds ...Kind) *Engine {
	if logger == nil {
		logger = slog.Default()
	}
	e := &Engine{kinds: map[string]Kind{}, sandbox: sb, logger: logger, TimeLimit: DefaultTimeLimit}
	for _, k := range kinds {
		e.kinds[k.Name()] = k
	}
	return e
}

// Kind returns the kind registered under name.
func (e *Engine) Kind(name string) (Kind, bool) {
	k, ok := e.kinds[name]
	return k, ok
}

// Kinds lists the registered kinds by name.
func (e *Engine) Kinds() []string {
	names := make([]string, 0, len(e.kinds))
	for n := range e.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Ready reports whether gradings that run containers can proceed.
func (e *Engine) Ready(ctx context.Context) error {
	if e.sandbox == nil {
		return errors.New("no container engine configured")
	}
	if err := e.sandbox.Ping(ctx); err != nil {
		return engineUnavailable(err)
	}
	return nil
}

// Variant returns the per-student variant of an exercise, or nil when its
// kind has none.
func (e *Engine) Variant(spec Spec, seed int64) (*Variant, error) {
	k, ok := e.kinds[spec.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown exercise kind %q", spec.Kind)
	}
	if v, ok := k.(Varianter); ok {
		return v.Variant(spec, seed)
	}
	return nil, nil
}

// Grade grades one submission. It always returns a Result: when the grader
// cannot judge, the Result has status error, gradable false and a reason.
func (e *Engine) Grade(ctx context.Context, req Request) *Result {
	res := &Result{Exercise: req.Spec.ID, Checks: []Check{}}
	res.Timings.QueuedMs = req.Queued.Milliseconds()
	kind, ok := e.kinds[req.Spec.Kind]
	if !ok {
		return errorResult(res, fmt.Sprintf("this exercise has kind %q, which this server cannot grade", req.Spec.Kind))
	}
	if len(req.Body) > MaxSubmissionBytes {
		return errorResult(res, fmt.Sprintf("the submission is %d KiB; the limit is %d KiB", len(req.Body)>>10, MaxSubmissionBytes>>10))
	}
	id := req.ID
	if id == "" {
		id = newID()
	}
	g := &Grading{ID: id, Spec: req.Spec, Seed: req.Seed, Body: req.Body, sandbox: e.sandbox, events: req.Events, started: time.Now()}
	variant, err := e.Variant(req.Spec, req.Seed)
	if err != nil {
		return errorResult(res, fmt.Sprintf("this exercise's variant could not be made: %v", err))
	}
	g.Variant = variant

	limit := e.TimeLimit
	if req.Spec.TimeLimit > 0 && req.Spec.TimeLimit < limit {
		limit = req.Spec.TimeLimit
	}
	gctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	plan, gradeErr := e.safePlan(kind, g)
	if gradeErr == nil {
		for _, c := range plan.Checks {
			g.Add(c)
		}
		gradeErr = e.runPhase(gctx, g, plan)
	}
	if g.scope != nil {
		// Cleanup must run even when the grading's own context has ended.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		if err := g.scope.Close(cctx); err != nil {
			e.logger.Warn("grading cleanup", slog.String("grading", id), slog.Any("err", err))
		}
		ccancel()
	}
	end := time.Now()

	res.Variant = g.Variant
	res.Checks = g.Checks()
	if res.Checks == nil {
		res.Checks = []Check{}
	}
	res.Log = g.log.String()
	if g.runStart.IsZero() {
		res.Timings.StaticMs = end.Sub(g.started).Milliseconds()
	} else {
		res.Timings.StaticMs = g.runStart.Sub(g.started).Milliseconds()
		res.Timings.RunMs = end.Sub(g.runStart).Milliseconds()
	}
	res.Summarize()
	applyScoring(kind, req.Spec, req.Body, res)
	if gradeErr != nil {
		var ie *InputError
		switch {
		case errors.As(gradeErr, &ie):
			res.Checks = append(res.Checks, Check{ID: "submission.parse", Title: "The submission can be read",
				Status: CheckError, Phase: PhaseStatic, Field: ie.Field, Message: ie.Error()})
			res.Reason = "the submission could not be read: " + ie.Error()
		case gctx.Err() == context.DeadlineExceeded && ctx.Err() == nil:
			res.Reason = fmt.Sprintf("the grading took longer than its limit of %s and was stopped; this attempt does not count", limit)
		case ctx.Err() != nil:
			res.Reason = "the grading was interrupted before it finished; this attempt does not count"
		default:
			res.Reason = gradeErr.Error()
		}
		res.Cause = gradeErr
		res.Status = StatusError
		res.Gradable = false
	}
	return res
}

// safePlan runs a kind's static phase, turning a panic into a plain reason.
func (e *Engine) safePlan(k Kind, g *Grading) (p *Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			e.logPanic(g, r)
			p, err = nil, fmt.Errorf("the grader hit an internal error while judging this submission; this attempt does not count")
		}
	}()
	p, err = k.Plan(g)
	if err == nil && p == nil {
		p = &Plan{}
	}
	return p, err
}

func (e *Engine) logPanic(g *Grading, r any) {
	e.logger.Error("grader panic", slog.String("kind", g.Spec.Kind), slog.String("grading", g.ID), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
}

func errorResult(res *Result, reason string) *Result {
	res.Status = StatusError
	res.Gradable = false
	res.Reason = reason
	return res
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
