package auth

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Throttle limits attempts per key (an address, or an account at an
// address) with a token bucket: Burst attempts at once, then one every
// Every. It remembers at most MaxKeys keys, forgetting the least recently
// used, so memory stays bounded whatever keys a client invents; every
// operation is O(1) and nothing ever sweeps the whole table.
type Throttle struct {
	Now func() time.Time

	burst   int
	every   time.Duration
	maxKeys int

	mu    sync.Mutex
	order *list.List // of *bucket, most recently used first
	keys  map[string]*list.Element
}

type bucket struct {
	key     string
	limiter *rate.Limiter
}

// NewThrottle allows burst attempts per key, then one every every, and
// keeps at most maxKeys keys.
func NewThrottle(burst int, every time.Duration, maxKeys int) *Throttle {
	return &Throttle{Now: time.Now, burst: burst, every: every, maxKeys: max(maxKeys, 1),
		order: list.New(), keys: map[string]*list.Element{}}
}

// Attempt is one attempt charged to a key; Refund gives it back.
type Attempt struct {
	r   *rate.Reservation
	now func() time.Time
}

// Refund returns the attempt to its key, as when it succeeded.
func (a Attempt) Refund() {
	if a.r != nil {
		a.r.CancelAt(a.now())
	}
}

// Take charges one attempt to key. When the key has none left it charges
// nothing and reports how long until the next one is allowed.
func (t *Throttle) Take(key string) (Attempt, bool, time.Duration) {
	lim := t.limiter(key)
	now := t.Now()
	r := lim.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return Attempt{}, false, wait
	}
	return Attempt{r: r, now: t.Now}, true, 0
}

// Forget drops the key's history, as after a successful sign-in.
func (t *Throttle) Forget(key string) {
	t.mu.Lock()
	if e, ok := t.keys[key]; ok {
		t.order.Remove(e)
		delete(t.keys, key)
	}
	t.mu.Unlock()
}

// Len is how many keys the throttle remembers.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

func (t *Throttle) limiter(key string) *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.keys[key]; ok {
		t.order.MoveToFront(e)
		return e.Value.(*bucket).limiter
	}
	if len(t.keys) >= t.maxKeys {
		oldest := t.order.Back()
		t.order.Remove(oldest)
		delete(t.keys, oldest.Value.(*bucket).key)
	}
	b := &bucket{key: key, limiter: rate.NewLimiter(rate.Every(t.every), t.burst)}
	t.keys[key] = t.order.PushFront(b)
	return b.limiter
}
