package sandboxtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"coldstart/grader/sandbox"
)

// Events records the engine's own account of the containers a sandbox
// creates: its event stream, filtered by the sandbox's instance label. It
// is evidence from the engine, not from the sandbox's bookkeeping, so a test
// can show that something was never created.
type Events struct {
	mu      sync.Mutex
	msgs    []events.Message
	err     error
	changed chan struct{}
}

// WatchEvents subscribes to the container events of sb's instance. The
// subscription is in place when it returns (the engine answers the events
// request once it has subscribed), so nothing created afterwards is missed.
// Every test sandbox has an instance of its own, so the stream holds the
// test's containers and no one else's.
func WatchEvents(tb testing.TB, sb *sandbox.Sandbox) *Events {
	tb.Helper()
	cli, err := client.New(client.WithHost(sb.Host()), client.WithAPIVersionNegotiation())
	if err != nil {
		tb.Fatalf("connect to the engine for its events: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := make(client.Filters).Add("type", string(events.ContainerEventType)).Add("label", sandbox.LabelInstance+"="+sb.Instance())
	res := cli.Events(ctx, client.EventsListOptions{Filters: f})
	e := &Events{changed: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case m := <-res.Messages:
				e.mu.Lock()
				e.msgs = append(e.msgs, m)
				e.notifyLocked()
				e.mu.Unlock()
			case err := <-res.Err:
				e.mu.Lock()
				if ctx.Err() == nil {
					e.err = err
				}
				e.notifyLocked()
				e.mu.Unlock()
				return
			}
		}
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
		cli.Close()
	})
	return e
}

func (e *Events) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// Count returns how many events of the given action (create, start,
// destroy…) the engine reported for containers of the grading.
func (e *Events) Count(grading string, action events.Action) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, m := range e.msgs {
		if m.Action == action && m.Actor.Attributes[sandbox.LabelGrading] == grading {
			n++
		}
	}
	return n
}

// Gradings returns how many create events each grading had.
func (e *Events) Gradings() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for _, m := range e.msgs {
		if m.Action == events.ActionCreate {
			out[m.Actor.Attributes[sandbox.LabelGrading]]++
		}
	}
	return out
}

// WaitFor waits until cond holds, failing the test after timeout. The
// engine sends events in order, so once an event is seen, every event the
// engine had before it has been seen too.
func (e *Events) WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		ch, err := e.changed, e.err
		e.mu.Unlock()
		if cond() {
			return
		}
		if err != nil {
			tb.Fatalf("the engine's event stream ended before %s: %v", what, err)
		}
		select {
		case <-ch:
		case <-deadline:
			tb.Fatalf("the engine's event stream did not show %s within %s", what, timeout)
		}
	}
}
