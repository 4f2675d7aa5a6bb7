package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/server/grading"
	"coldstart/server/store"
)

// gradingData is what the admin sees of grading: the queue, the nodes
// heard from and whether answers are being graded now.
type gradingData struct {
	Queue        store.QueueStats
	OldestWait   time.Duration
	Nodes        []grading.NodeStatus
	ListsNodes   bool
	Capacity     int
	Status       string
	StatusReason string
}

// gradingPage shows admins the grading queue and the grader nodes.
func (s *Server) gradingPage(c *gin.Context) {
	ctx := c.Request.Context()
	q, err := s.store.Queue(ctx)
	if err != nil {
		s.failWith(c, err)
		return
	}
	d := gradingData{Queue: q, Status: "grading"}
	if !q.OldestQueued.IsZero() {
		d.OldestWait = time.Since(q.OldestQueued).Round(time.Second)
	}
	if s.pool != nil {
		d.Capacity = s.pool.Capacity()
		if nl, ok := s.pool.(nodeLister); ok {
			d.Nodes, d.ListsNodes = nl.Nodes(), true
		}
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		if err := s.pool.Ready(rctx); err != nil {
			d.Status, d.StatusReason = "not grading", err.Error()
		}
		cancel()
	}
	p := s.newPage(c, "Grading", d)
	p.Nav = "cohort"
	s.render(c, http.StatusOK, "grading", p)
}
