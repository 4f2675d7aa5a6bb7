package sandbox

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Budget bounds what every grading of one server holds on the engine at
// once. A grading that would go over it waits until others release enough.
type Budget struct {
	Containers int
	MemoryMB   int64
}

// DefaultBudget lets two gradings at their container cap run side by side.
// Memory counts the containers' limits, not what they use: 16 GiB holds two
// task definitions of ten containers at the 1 GiB cap with room to spare.
var DefaultBudget = Budget{Containers: 128, MemoryMB: 16 << 10}

// budget is the shared account of a Budget.
type budget struct {
	limit Budget

	mu         sync.Mutex
	containers int
	memoryMB   int64
	changed    chan struct{} // closed and replaced whenever something is released
}

func newBudget(b Budget, l Limits) *budget {
	if b.Containers <= 0 {
		b.Containers = DefaultBudget.Containers
	}
	if b.MemoryMB <= 0 {
		b.MemoryMB = DefaultBudget.MemoryMB
	}
	// One container at the largest size must always fit, or a grading
	// could wait for ever.
	b.Containers = max(b.Containers, 1)
	b.MemoryMB = max(b.MemoryMB, l.MaxMemoryMB)
	return &budget{limit: b, changed: make(chan struct{})}
}

// acquire takes one container of memMB from the budget, waiting while it
// is spent. wait is told once that the grading waits, and with what.
func (b *budget) acquire(ctx context.Context, memMB int64, wait func(string)) (time.Duration, error) {
	began := time.Now()
	told := false
	for {
		b.mu.Lock()
		if b.containers+1 <= b.limit.Containers && b.memoryMB+memMB <= b.limit.MemoryMB {
			b.containers++
			b.memoryMB += memMB
			b.mu.Unlock()
			return time.Since(began), nil
		}
		ch := b.changed
		inUse := fmt.Sprintf("%d of %d containers and %d of %d MiB are in use by other gradings",
			b.containers, b.limit.Containers, b.memoryMB, b.limit.MemoryMB)
		b.mu.Unlock()
		if !told && wait != nil {
			wait("waiting for room on the container engine: " + inUse)
			told = true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return time.Since(began), fmt.Errorf("waited %.1f s for room on the container engine (%s): %w", time.Since(began).Seconds(), inUse, ctx.Err())
		}
	}
}

// release gives back what acquire took.
func (b *budget) release(memMB int64) {
	b.mu.Lock()
	b.containers--
	b.memoryMB -= memMB
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// Budget returns the budget in force.
func (s *Sandbox) Budget() Budget { return s.budget.limit }

// InUse reports what the gradings hold now.
func (s *Sandbox) InUse() Budget {
	s.budget.mu.Lock()
	defer s.budget.mu.Unlock()
	return Budget{Containers: s.budget.containers, MemoryMB: s.budget.memoryMB}
}
