package grading

import (
	"sync"

	"coldstart/grader"
)

// Update is one step of a job as the browser follows it.
type Update struct {
	// Type is queued, running, check, progress or done.
	Type     string        `json:"type"`
	Position int           `json:"position,omitempty"` // jobs ahead, when queued
	CheckID  string        `json:"checkId,omitempty"`
	Title    string        `json:"title,omitempty"`
	Message  string        `json:"message,omitempty"`
	Check    *grader.Check `json:"check,omitempty"`
	Verdict  string        `json:"verdict,omitempty"` // when done
}

// maxReplay bounds the updates kept per job for pages that subscribe late.
const maxReplay = 256

// Hub fans the updates of running jobs out to the pages following them.
type Hub struct {
	mu    sync.Mutex
	feeds map[int64]*feed
}

type feed struct {
	history []Update
	subs    map[chan Update]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{feeds: map[int64]*feed{}} }

// Subscribe follows job id: it returns the updates so far, a channel of the
// next ones, and a function to stop following. The channel is closed after
// the done update.
func (h *Hub) Subscribe(id int64) ([]Update, <-chan Update, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.feeds[id]
	if f == nil {
		f = &feed{subs: map[chan Update]struct{}{}}
		h.feeds[id] = f
	}
	ch := make(chan Update, 64)
	f.subs[ch] = struct{}{}
	replay := append([]Update(nil), f.history...)
	return replay, ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if f, ok := h.feeds[id]; ok {
			if _, ok := f.subs[ch]; ok {
				delete(f.subs, ch)
				close(ch)
			}
			if len(f.subs) == 0 && len(f.history) == 0 {
				delete(h.feeds, id)
			}
		}
	}
}

// Publish sends an update to everyone following job id. A done update ends
// the feed. A page that cannot keep up misses updates (it still gets the
// verdict from the store when its stream ends).
func (h *Hub) Publish(id int64, u Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.feeds[id]
	if f == nil {
		if u.Type == "done" {
			return
		}
		f = &feed{subs: map[chan Update]struct{}{}}
		h.feeds[id] = f
	}
	if len(f.history) < maxReplay {
		f.history = append(f.history, u)
	}
	for ch := range f.subs {
		select {
		case ch <- u:
		default:
		}
		if u.Type == "done" {
			close(ch)
		}
	}
	if u.Type == "done" {
		delete(h.feeds, id)
	}
}

// Reset forgets the progress of a job that went back to the queue.
func (h *Hub) Reset(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.feeds[id]; f != nil {
		f.history = nil
	}
}
