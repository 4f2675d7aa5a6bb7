package auth

import (
	"sync"
	"time"
)

// Limiter allows at most Max events per key within Window (a sliding
// window over the timestamps of recent events). It is used per IP address
// and per account for sign-in attempts.
type Limiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu     sync.Mutex
	events map[string][]time.Time
}

// NewLimiter returns a limiter of max events per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{Max: max, Window: window, Now: time.Now, events: map[string][]time.Time{}}
}

// Allow records an event for key and reports whether it is within the
// limit; when it is not, it also returns how long until one is allowed.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	recent := l.prune(key, now)
	if len(recent) >= l.Max {
		return false, recent[0].Add(l.Window).Sub(now)
	}
	l.events[key] = append(recent, now)
	if len(l.events) > 100000 {
		l.sweep(now)
	}
	return true, 0
}

// Reset forgets the events of key, as after a successful sign-in.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.events, key)
	l.mu.Unlock()
}

func (l *Limiter) prune(key string, now time.Time) []time.Time {
	ev := l.events[key]
	i := 0
	for i < len(ev) && now.Sub(ev[i]) >= l.Window {
		i++
	}
	ev = ev[i:]
	if len(ev) == 0 {
		delete(l.events, key)
		return nil
	}
	l.events[key] = ev
	return ev
}

// sweep drops keys with no recent events so memory stays bounded.
func (l *Limiter) sweep(now time.Time) {
	for k := range l.events {
		l.prune(k, now)
	}
}
