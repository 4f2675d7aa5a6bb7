package server

import "sync"

// maxStreamsPerUser bounds the live grading streams one account holds open:
// each is a connection and a subscription, and a page needs one.
const maxStreamsPerUser = 4

// streamCounts counts open streams per account.
type streamCounts struct {
	mu   sync.Mutex
	open map[int64]int
}

// acquire takes a stream for the user, or reports that they hold too many.
func (s *streamCounts) acquire(user int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == nil {
		s.open = map[int64]int{}
	}
	if s.open[user] >= maxStreamsPerUser {
		return false
	}
	s.open[user]++
	return true
}

func (s *streamCounts) release(user int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[user]--; s.open[user] <= 0 {
		delete(s.open, user)
	}
}
