package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"coldstart/server/auth"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// healthz says the process is alive.
func (s *Server) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, "ok\n")
}

// readyz says whether the server can do its work: the database answers and
// a course is loaded. Everyone gets the status; what each part reported,
// which may hold internal error text, goes only to admins, to holders of
// the metrics token and to the operations listener.
func (s *Server) readyz(c *gin.Context) {
	s.serveReady(c.Writer, c.Request, s.opsAuthorized(c.Request) || isAdmin(currentUser(c)))
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request, details bool) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks, graderErr := s.ready(ctx)
	code, status, reason := http.StatusOK, "ready", ""
	switch {
	case checks["database"] != "ok":
		reason = "the database does not answer"
	case checks["course"] == "not loaded":
		reason = "no course is loaded"
	case errors.Is(graderErr, grading.ErrNoNode):
		reason = "no grader node is connected, so no answer is graded until one is"
	case checks["grader"] != "ok":
		// Answers are still taken and wait in the queue; a load balancer
		// should know that none is graded now.
		reason = "the container engine does not answer, so no answer is graded until it does"
	}
	if reason != "" {
		code, status = http.StatusServiceUnavailable, "unavailable"
	}
	out := map[string]any{"status": status}
	if reason != "" {
		out["reason"] = reason
	}
	if details {
		out["checks"] = checks
		if nl, ok := s.pool.(nodeLister); ok {
			out["nodes"] = nl.Nodes()
		}
		if q, err := s.store.Queue(ctx); err == nil {
			queue := map[string]any{"queued": q.Queued, "running": q.Running}
			if !q.OldestQueued.IsZero() {
				queue["oldestWaitingSeconds"] = int(time.Since(q.OldestQueued).Seconds())
			}
			out["queue"] = queue
		}
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func isAdmin(u *store.User) bool { return u != nil && u.Role == store.RoleAdmin }

// opsAuthorized reports whether the request carries the metrics token.
func (s *Server) opsAuthorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.cfg.MetricsToken != "" && auth.Equal(tok, s.cfg.MetricsToken)
}

// metrics serves Prometheus metrics on the public listener only to holders
// of the metrics token; without a token they are only on OpsHandler.
func (s *Server) metrics(c *gin.Context) {
	if s.cfg.MetricsToken == "" {
		s.fail(c, http.StatusNotFound, "Not here", "Metrics are served on the operations listener (--metrics-addr).")
		return
	}
	if !s.opsAuthorized(c.Request) {
		c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
		s.fail(c, http.StatusUnauthorized, "A token is needed", "Send the metrics token as Authorization: Bearer TOKEN.")
		return
	}
	s.promHandler().ServeHTTP(c.Writer, c.Request)
}

func (s *Server) promHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
}

// OpsHandler serves /metrics, /readyz with details, /healthz and Go's
// profiles under /debug/pprof/, for a listener that only operators reach
// (--metrics-addr). The profiles are what shows where a busy server spends
// its time (scripts/bench-lesson.sh takes one under load).
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.Handle("GET /metrics", s.promHandler())
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { s.serveReady(w, r, true) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// static serves embedded assets under their content-hashed URLs.
func (s *Server) static(c *gin.Context) {
	a := s.assets.ByURL(c.Request.URL.Path)
	if a == nil {
		s.fail(c, http.StatusNotFound, "No such file", "This file does not exist on the server.")
		return
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("ETag", a.ETag)
	if c.GetHeader("If-None-Match") == a.ETag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, a.ContentType, a.Body)
}
