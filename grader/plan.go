package grader

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RunMargin is how long before a grading's time limit the run phase stops
// observing (a quarter of the time left when that is less). The margin leaves time to remove the containers and to report
// the checks already decided, so that a verdict the static checks reached
// survives a machine too busy to finish the run.
const RunMargin = 8 * time.Second

// Plan is what a kind's static phase decides: the checks it judged without
// running anything and, for kinds that run the submission, how to run it.
// The engine sequences the phases, so every kind skips, times out and gives
// up in the same way.
type Plan struct {
	// Checks are the static checks, in the order the student reads them.
	Checks []Check
	// Run plays the run phase in containers; nil for static-only kinds.
	Run func(ctx context.Context, g *Grading) error
	// RunChecks are the checks the run phase records (ID, title, points).
	// Any the run leaves unrecorded is recorded as skipped.
	RunChecks []Check
	// Refused, when set, says why the platform would refuse the submission;
	// the run phase is then skipped with this reason.
	Refused string
}

// busyRun is the reason of a run that ran out of its own time while no
// verdict had been reached yet: what was measured is how long it had.
func busyRun(had time.Duration) error {
	return fmt.Errorf("the run did not finish within the grading's time limit: it had %.1f s, and the machine or its container engine was too slow for this grading to end in them; this attempt does not count", had.Seconds())
}

// runPhase plays a plan's run phase on g. It returns an error only when the
// grader could not judge: a run that could not finish after the static
// checks already failed the submission leaves that verdict standing.
func (e *Engine) runPhase(ctx context.Context, g *Grading, p *Plan) error {
	if p.Run == nil {
		return nil
	}
	if p.Refused != "" {
		g.SkipAll(p.Refused, p.RunChecks...)
		return nil
	}
	g.runChecks = p.RunChecks
	g.staticFailed = g.Failed()
	runCtx := ctx
	began := time.Now()
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		// A grading shorter than a few margins keeps most of its time.
		margin := min(RunMargin, time.Until(dl)/4)
		runCtx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	err := e.safeRun(runCtx, g, p)
	outOfTime := runCtx.Err() != nil && ctx.Err() == nil
	switch {
	case outOfTime:
		g.skipUnrecorded(fmt.Sprintf("not observed: the run reached the grading's time limit after %.1f s, before this check", time.Since(began).Seconds()))
	case err == nil:
		g.skipUnrecorded("not observed")
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err == nil && !outOfTime:
		return nil
	case g.staticFailed && !isPanic(err):
		// The verdict stands on the static checks; what the run could not
		// observe changes nothing.
		if err != nil {
			g.skipUnrecorded("not observed (" + err.Error() + "): the checks above decide the verdict")
		}
		return nil
	case outOfTime:
		return busyRun(time.Since(began))
	}
	g.skipUnrecorded("not observed")
	return err
}

// errPanic marks a run phase that panicked.
type errPanic struct{ error }

func isPanic(err error) bool {
	var p errPanic
	return errors.As(err, &p)
}

func (e *Engine) safeRun(ctx context.Context, g *Grading, p *Plan) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e.logPanic(g, r)
			err = errPanic{fmt.Errorf("the grader hit an internal error while running this submission; this attempt does not count")}
		}
	}()
	return p.Run(ctx, g)
}
