package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/server/grading"
	"coldstart/server/store"
)

// startStream sends the headers of a server-sent event stream and lifts
// the server's write deadline, which is meant for ordinary pages.
func startStream(c *gin.Context) {
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-store")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	c.Writer.Flush()
}

func sendEvent(c *gin.Context, event string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if event != "" {
		if _, err := fmt.Fprintf(c.Writer, "event: %s\n", event); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(c.Writer, "data: %s\n\n", b); err != nil {
		return err
	}
	c.Writer.Flush()
	return nil
}

// submissionEvents streams a grading as it goes: queued (with the place in
// the queue), each check as it runs and ends, then the verdict.
func (s *Server) submissionEvents(c *gin.Context) {
	n, ok := s.submissionID(c)
	if !ok {
		return
	}
	if _, err := s.ownSubmission(c, n); err != nil {
		return
	}
	user := currentUser(c).ID
	if !s.streams.acquire(user) {
		c.Header("Retry-After", "10")
		s.fail(c, http.StatusTooManyRequests, "Too many live gradings open",
			fmt.Sprintf("You are following %d gradings live already, the most one account may. Close some of those pages or tabs, then reload this one.", maxStreamsPerUser))
		return
	}
	defer s.streams.release(user)
	// Subscribe before reading the status again, so no step is missed.
	replay, updates, stop := s.hub.Subscribe(n)
	defer stop()
	ctx := c.Request.Context()
	sub, err := s.store.Submission(ctx, n)
	if err != nil {
		s.internal(c, err)
		return
	}
	startStream(c)
	// After a dropped connection the browser tries again in 2 s, and the
	// page says "connection lost — retrying" meanwhile.
	_, _ = fmt.Fprint(c.Writer, "retry: 2000\n\n")
	s.streamsOpen.WithLabelValues("grading").Inc()
	defer s.streamsOpen.WithLabelValues("grading").Dec()
	done := func(sub *store.Submission) { _ = sendEvent(c, "", grading.Update{Type: "done", Verdict: sub.Verdict}) }
	if sub.Status == store.JobDone {
		done(sub)
		return
	}
	lastPos := -1
	sendQueued := func() error {
		pos, err := s.store.QueuePosition(ctx, n)
		if err != nil || pos == lastPos {
			return err
		}
		lastPos = pos
		return sendEvent(c, "", grading.Update{Type: "queued", Position: pos})
	}
	if sub.Status == store.JobQueued {
		if err := sendQueued(); err != nil {
			return
		}
	}
	for _, u := range replay {
		if err := sendEvent(c, "", u); err != nil {
			return
		}
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case u, ok := <-updates:
			if !ok || u.Type == "done" {
				// The verdict is in the store; read it there so the page
				// always gets it, even if it missed updates.
				if sub, err := s.store.Submission(ctx, n); err == nil && sub.Status == store.JobDone {
					done(sub)
				}
				return
			}
			if err := sendEvent(c, "", u); err != nil {
				return
			}
		case <-tick.C:
			sub, err := s.store.Submission(ctx, n)
			if err != nil {
				return
			}
			switch sub.Status {
			case store.JobDone:
				done(sub)
				return
			case store.JobQueued:
				if sendQueued() != nil {
					return
				}
			}
			// A comment keeps proxies from closing an idle stream.
			if _, err := fmt.Fprint(c.Writer, ": waiting\n\n"); err != nil {
				return
			}
			c.Writer.Flush()
		}
	}
}

// reloadEvents tells open pages to reload after the course changed (with
// --watch). Without a watcher the stream just stays open.
func (s *Server) reloadEvents(c *gin.Context) {
	if !s.cfg.Watch {
		s.fail(c, http.StatusNotFound, "Not watching", "This server does not watch the course for changes.")
		return
	}
	var changes <-chan struct{}
	if sub, ok := s.course.(Subscriber); ok {
		ch, stop := sub.Subscribe()
		defer stop()
		changes = ch
	}
	startStream(c)
	s.streamsOpen.WithLabelValues("reload").Inc()
	defer s.streamsOpen.WithLabelValues("reload").Dec()
	_, _ = fmt.Fprint(c.Writer, "retry: 1000\n\n")
	c.Writer.Flush()
	keep := time.NewTicker(25 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-c.Request.Context().Done():
			return
		case <-s.closing:
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
			if sendEvent(c, "reload", map[string]string{"at": time.Now().UTC().Format(time.RFC3339)}) != nil {
				return
			}
		case <-keep.C:
			if _, err := fmt.Fprint(c.Writer, ": alive\n\n"); err != nil {
				return
			}
			c.Writer.Flush()
		}
	}
}
