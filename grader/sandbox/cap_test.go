package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"

	"coldstart/grader"
	"coldstart/grader/sandbox"
	"coldstart/grader/sandbox/sandboxtest"
)

// floodKind is a kind whose run phase asks for more containers than any
// exercise needs, as a submission that found a way to multiply containers
// would: the sandbox's cap must stop it whatever the kind.
type floodKind struct{ containers int }

func (floodKind) Name() string { return "flood" }

func (k floodKind) Plan(g *grader.Grading) (*grader.Plan, error) {
	return &grader.Plan{
		RunChecks: []grader.Check{{ID: "flood.run", Title: "The containers run"}},
		Run: func(ctx context.Context, g *grader.Grading) error {
			sc, err := sandbox.Open(ctx, g)
			if err != nil {
				return err
			}
			// Eight at a time, as a kind starting a fleet does.
			next := make(chan int)
			go func() {
				defer close(next)
				for i := range k.containers {
					next <- i
				}
			}()
			var mu sync.Mutex
			var errs []error
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						_, err := sc.Start(ctx, sandbox.ContainerSpec{Name: fmt.Sprintf("box-%d", i), Cmd: []string{"pause"}, MemoryMB: 16})
						if err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			return errors.Join(errs...)
		},
	}, nil
}

// TestContainerCapRefusesThe65thCreate grades through the real engine a
// run phase that asks for 65 containers. The engine's event stream must
// show 64 containers created for the grading and not a 65th, and the
// grading must end as one that could not be graded, naming the cap.
func TestContainerCapRefusesThe65thCreate(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := sb.LabImage(ctx); err != nil {
		t.Fatal(err)
	}
	capacity := sb.Limits().MaxContainers
	if capacity != 64 {
		t.Fatalf("the default cap is %d containers per grading, want 64", capacity)
	}
	ev := sandboxtest.WatchEvents(t, sb)

	eng := grader.NewEngine(sb, nil, floodKind{containers: capacity + 1})
	eng.TimeLimit = 4 * time.Minute
	const id = "cap-test"
	res := eng.Grade(ctx, grader.Request{Spec: grader.Spec{ID: "flood", Kind: "flood"}, ID: id})

	if res.Status != grader.StatusError || res.Gradable {
		t.Errorf("status %s, gradable %v: want a grading that could not be graded", res.Status, res.Gradable)
	}
	if !errors.Is(res.Cause, sandbox.ErrContainerCap) {
		t.Errorf("cause %v: want the container cap", res.Cause)
	}
	for _, want := range []string{"cap of 64 containers", "number 65"} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q does not say %q", res.Reason, want)
		}
	}

	// Close removed every container it created; once the engine has
	// reported as many removals as creations, it has reported every
	// creation too.
	ev.WaitFor(t, time.Minute, "the grading's containers removed", func() bool {
		c := ev.Count(id, events.ActionCreate)
		return c > 0 && ev.Count(id, events.ActionDestroy) == c
	})
	if got := ev.Count(id, events.ActionCreate); got != capacity {
		t.Errorf("the engine created %d containers for the grading, want exactly %d", got, capacity)
	}
	if got := ev.Count(id, events.ActionStart); got != capacity {
		t.Errorf("the engine started %d containers for the grading, want %d", got, capacity)
	}
	t.Logf("engine events for %s: %d created, %d destroyed; reason: %s", id, ev.Count(id, events.ActionCreate), ev.Count(id, events.ActionDestroy), res.Reason)
}
