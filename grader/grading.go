package grader

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// maxLogBytes bounds the log excerpt a Result carries.
const maxLogBytes = 16 << 10

// Grading is one grading in progress: a kind reads the submission from it and
// records checks, progress and log lines on it.
type Grading struct {
	ID      string
	Spec    Spec
	Seed    int64
	Body    []byte
	Variant *Variant

	sandbox Containers
	events  func(Event)

	mu       sync.Mutex
	checks   []Check
	log      strings.Builder
	logCut   bool
	started  time.Time
	runStart time.Time
	scope    Scope
	// runChecks are the checks the run phase records; staticFailed is set
	// when the static checks already failed the submission.
	runChecks    []Check
	staticFailed bool
}

// Add records a finished check and reports it.
func (g *Grading) Add(c Check) {
	if c.Phase == "" {
		c.Phase = PhaseStatic
	}
	g.mu.Lock()
	g.checks = append(g.checks, c)
	g.mu.Unlock()
	g.emit(Event{Type: EventCheck, CheckID: c.ID, Title: c.Title, Check: &c})
}

// Running reports that a check has started.
func (g *Grading) Running(id, title string) {
	g.emit(Event{Type: EventRunning, CheckID: id, Title: title})
}

// Progress reports a step inside a check, such as "task 9/16 → 10.20.0.37".
func (g *Grading) Progress(id, format string, args ...any) {
	g.emit(Event{Type: EventProgress, CheckID: id, Message: fmt.Sprintf(format, args...)})
}

// Logf appends a line to the grading's log excerpt, which is bounded.
func (g *Grading) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.logCut {
		return
	}
	if g.log.Len()+len(line)+1 > maxLogBytes {
		g.log.WriteString("… (log cut)\n")
		g.logCut = true
		return
	}
	g.log.WriteString(line)
	if !strings.HasSuffix(line, "\n") {
		g.log.WriteByte('\n')
	}
}

// Failed reports whether any check recorded so far failed.
func (g *Grading) Failed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.checks {
		if c.Status == CheckFail || c.Status == CheckError {
			return true
		}
	}
	return false
}

// Checks returns a copy of the checks recorded so far.
func (g *Grading) Checks() []Check {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Check(nil), g.checks...)
}

// Containers starts the run phase and returns the scope in which the
// grading's containers and networks live; they are removed when the grading
// ends. It fails when no container engine is available. Kinds take the
// scope through sandbox.Open, which gives it its concrete type.
func (g *Grading) Containers(ctx context.Context) (Scope, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.scope != nil {
		return g.scope, nil
	}
	if g.sandbox == nil {
		return nil, fmt.Errorf("no container engine is configured, so this exercise cannot be run")
	}
	if err := g.sandbox.Ping(ctx); err != nil {
		return nil, engineUnavailable(err)
	}
	g.runStart = time.Now()
	g.scope = g.sandbox.OpenScope(g.ID, func(msg string) { g.Progress("", "%s", msg) })
	return g.scope, nil
}

// SkipAll records each check as skipped with the same reason: used for the run
// checks when the static phase already rejected the submission.
func (g *Grading) SkipAll(reason string, checks ...Check) {
	for _, c := range checks {
		c.Status = CheckSkip
		c.Phase = PhaseRun
		c.Message = reason
		c.Points = 0
		g.Add(c)
	}
}

// StaticFailed reports whether the static checks already failed the
// submission, so that the verdict no longer depends on the run phase.
func (g *Grading) StaticFailed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.staticFailed
}

// Recorded reports whether a check with this id has been recorded.
func (g *Grading) Recorded(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.checks {
		if c.ID == id {
			return true
		}
	}
	return false
}

// Unobserved records a run check that the grading could not observe for a
// reason that says nothing about the submission (the engine refused, the
// machine was too busy): an error, which costs no attempt, unless the static
// checks already decided the verdict, which then stands. This is the one way
// a kind says "could not judge" about a single check.
func (g *Grading) Unobserved(c Check) {
	c.Phase = PhaseRun
	c.Points = 0
	if g.StaticFailed() {
		c.Status = CheckSkip
		c.Message += " (the checks above decide the verdict)"
	} else {
		c.Status = CheckError
		c.Message += "; this attempt does not count"
	}
	g.Add(c)
}

// LabImage makes sure the lab image is built, so that what the run phase
// times next does not include the build.
func (g *Grading) LabImage(ctx context.Context) error {
	if g.sandbox == nil {
		return fmt.Errorf("no container engine is configured, so this exercise cannot be run")
	}
	if err := g.sandbox.Ping(ctx); err != nil {
		return engineUnavailable(err)
	}
	_, err := g.sandbox.LabImage(ctx)
	return err
}

// skipUnrecorded records every run check not recorded yet as skipped.
func (g *Grading) skipUnrecorded(reason string) {
	for _, c := range g.runChecks {
		if !g.Recorded(c.ID) {
			g.SkipAll(reason, c)
		}
	}
}

func (g *Grading) emit(e Event) {
	if g.events != nil {
		g.events(e)
	}
}
