package server

import (
	"context"
	"sync"

	"coldstart/server/store"
)

// progressCache keeps each user's progress in memory between changes. Every
// change goes through this process (pages and the grading pool), and each
// one drops the user's entry.
type progressCache struct {
	mu      sync.RWMutex
	entries map[int64]*store.Progress
	gen     uint64 // counts changes, so a read racing a change is not kept
}

func newProgressCache() *progressCache { return &progressCache{entries: map[int64]*store.Progress{}} }

func (s *Server) userProgress(ctx context.Context, userID int64) (*store.Progress, error) {
	s.progress.mu.RLock()
	p, ok := s.progress.entries[userID]
	s.progress.mu.RUnlock()
	if ok {
		return p, nil
	}
	s.progress.mu.RLock()
	gen := s.progress.gen
	s.progress.mu.RUnlock()
	p, err := s.store.Progress(ctx, userID)
	if err != nil {
		return nil, err
	}
	s.progress.mu.Lock()
	if len(s.progress.entries) > 20000 {
		s.progress.entries = map[int64]*store.Progress{}
	}
	if s.progress.gen == gen {
		s.progress.entries[userID] = p
	}
	s.progress.mu.Unlock()
	return p, nil
}

func (c *progressCache) forget(userID int64) {
	c.mu.Lock()
	delete(c.entries, userID)
	c.gen++
	c.mu.Unlock()
}
