package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz says the process is alive.
func (s *Server) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, "ok\n")
}

// readyz says whether the server can do its work: the database answers and
// a course is loaded. The grader's state is reported; without a container
// engine the server still serves lessons and quizzes, so it stays ready.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := s.ready(ctx)
	code := http.StatusOK
	if checks["database"] != "ok" || checks["course"] == "not loaded" {
		code = http.StatusServiceUnavailable
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(code, checks)
}

func (s *Server) metrics(c *gin.Context) {
	promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}).ServeHTTP(c.Writer, c.Request)
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
