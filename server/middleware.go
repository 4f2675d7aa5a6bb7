package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"coldstart/server/store"
)

// requestState is what the middleware learns of a request: its id and,
// when signed in, the user, the session token and the page's CSRF token.
// It is kept on the gin.Context as one value, so a request sets one key
// instead of one per field.
type requestState struct {
	id      string
	user    *store.User
	token   string // the session token, when signed in
	csrf    string
	expired bool // the request came with a session that has expired
}

const ctxState = "coldstart_request"

// stateOf returns the request's state; a request that did not pass
// requestID (none in the server) gets an empty one.
func stateOf(c *gin.Context) *requestState {
	if v, ok := c.Get(ctxState); ok {
		return v.(*requestState)
	}
	st := &requestState{}
	c.Set(ctxState, st)
	return st
}

func requestIDOf(c *gin.Context) string { return stateOf(c).id }

func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if len(id) == 0 || len(id) > 64 || !isToken(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxState, &requestState{id: id})
	c.Writer.Header()["X-Request-Id"] = []string{id}
	c.Next()
}

func isToken(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// recoverPanic turns a panic into a logged error and an error page that
// shows no stack trace.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		s.logger.ErrorContext(c.Request.Context(), "panic while serving a request", slog.String("request_id", requestIDOf(c)),
			slog.String("path", c.Request.URL.Path), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		s.fail(c, http.StatusInternalServerError, "Something went wrong", "The server hit an internal error on this page. The problem was logged; please try again.")
	}()
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	end := time.Now()
	took := end.Sub(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	code := c.Writer.Status()
	s.routeMetrics.of(s, route, code).observe(took)
	level := slog.LevelInfo
	if code >= 500 {
		level = slog.LevelError
	}
	ctx := c.Request.Context()
	h := s.logger.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	// Every request is logged, so the line is made as cheaply as slog
	// allows: the record goes straight to the handler with no caller
	// looked up (the source would always be this line), stamped with the
	// time already read, and its attributes are one group with an empty
	// key, which handlers write inline, so the record holds one attribute
	// and allocates none. The attributes live in a pooled slice that the
	// group points into; slog's handlers are done with a record when
	// Handle returns. The time taken is in whole microseconds ("us"): a
	// float goes through encoding/json in slog's JSON handler.
	ap := accessAttrs.Get().(*[]slog.Attr)
	attrs := append((*ap)[:0],
		slog.String("request_id", requestIDOf(c)),
		slog.String("method", c.Request.Method),
		slog.String("path", loggedPath(c.Request.URL.Path, route)),
		slog.String("route", route),
		slog.Int("status", code),
		slog.Int("bytes", c.Writer.Size()),
		slog.Int64("us", took.Microseconds()),
		slog.String("ip", c.ClientIP()),
	)
	if u := currentUser(c); u != nil {
		attrs = append(attrs, slog.Int64("user", u.ID))
	}
	r := slog.NewRecord(end, level, "request", 0)
	r.AddAttrs(slog.Attr{Value: slog.GroupValue(attrs...)})
	_ = h.Handle(ctx, r)
	clear(attrs)
	*ap = attrs
	accessAttrs.Put(ap)
}

var accessAttrs = sync.Pool{New: func() any { a := make([]slog.Attr, 0, 9); return &a }}

// routeMetrics keeps the request counter and latency histogram of each
// route and status code once looked up, so that a request does not hash
// its labels again.
type routeMetrics struct{ m sync.Map }

type routeCode struct {
	route string
	code  int
}

type routeObservers struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func (r *routeMetrics) of(s *Server, route string, code int) *routeObservers {
	k := routeCode{route, code}
	if o, ok := r.m.Load(k); ok {
		return o.(*routeObservers)
	}
	o := &routeObservers{requests: s.requests.WithLabelValues(route, strconv.Itoa(code)), latency: s.latency.WithLabelValues(route)}
	actual, _ := r.m.LoadOrStore(k, o)
	return actual.(*routeObservers)
}

func (o *routeObservers) observe(took time.Duration) {
	o.requests.Inc()
	o.latency.Observe(took.Seconds())
}

// limitBody refuses bodies larger than the limit: at once when the length is
// declared, and while reading otherwise.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > s.cfg.MaxBodyBytes {
		s.tooLarge(c)
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	}
	c.Next()
}

func (s *Server) tooLarge(c *gin.Context) {
	c.Header("Connection", "close")
	s.fail(c, http.StatusRequestEntityTooLarge, "That was too much to send",
		fmt.Sprintf("The server accepts at most %d KiB in one request. Exercise answers may be at most 64 KiB.", s.cfg.MaxBodyBytes>>10))
}

// parseForm reads a form body, answering 413 or 400 itself when it cannot.
func (s *Server) parseForm(c *gin.Context) bool {
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = c.Request.ParseMultipartForm(s.cfg.MaxBodyBytes)
	} else {
		err = c.Request.ParseForm()
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.tooLarge(c)
		return false
	}
	s.fail(c, http.StatusBadRequest, "The form could not be read", "What the browser sent is not a form this page understands. Reload the page and try again.")
	return false
}

// checkCSRF refuses state-changing requests that a browser sent from
// another site (Go's CrossOriginProtection: Sec-Fetch-Site, else Origin
// against Host), so anonymous pages need no token and no cookie. A
// signed-in user's forms also carry a token derived from the session, for
// browsers that send neither header.
func (s *Server) checkCSRF(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	if err := s.crossOrigin.Check(c.Request); err != nil {
		s.logger.InfoContext(c.Request.Context(), "cross-site request refused", slog.String("request_id", requestIDOf(c)),
			slog.String("path", c.Request.URL.Path), slog.String("origin", c.GetHeader("Origin")), slog.String("sec_fetch_site", c.GetHeader("Sec-Fetch-Site")))
		s.fail(c, http.StatusForbidden, "This form came from another site",
			"Coldstart only accepts forms sent from its own pages, so nothing was saved. Open this server's page yourself and try again there.")
		return
	}
	if !s.parseForm(c) {
		return
	}
	if currentUser(c) == nil {
		c.Next()
		return
	}
	got := c.Request.PostFormValue("csrf")
	if got == "" {
		got = c.GetHeader("X-CSRF-Token")
	}
	if !csrfValid(c, got) {
		s.fail(c, http.StatusForbidden, "This form has expired",
			"The page was open too long or you signed in again since, so nothing was saved. Reload the page and try again.")
		return
	}
	c.Next()
}

func (s *Server) requireUser(c *gin.Context) {
	if currentUser(c) != nil {
		c.Next()
		return
	}
	if stateOf(c).expired {
		if c.Request.Method == http.MethodGet && !wantsJSON(c) {
			c.Redirect(http.StatusSeeOther, "/signin?expired=1&next="+url.QueryEscape(safeNext(c.Request.URL.RequestURI())))
			c.Abort()
			return
		}
		s.fail(c, http.StatusUnauthorized, "Your session has expired", "Sign in again, then repeat what you were doing. Nothing was saved.")
		return
	}
	if c.Request.Method == http.MethodGet && !wantsJSON(c) {
		c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(safeNext(c.Request.URL.RequestURI())))
		c.Abort()
		return
	}
	s.fail(c, http.StatusUnauthorized, "Please sign in", "Sign in to do this.")
}

func (s *Server) requireTeacher(c *gin.Context) {
	if u := currentUser(c); u == nil || !u.Role.CanTeach() {
		s.fail(c, http.StatusForbidden, "Instructors only", "This page is for instructors.")
		return
	}
	c.Next()
}

func (s *Server) requireAdmin(c *gin.Context) {
	if u := currentUser(c); u == nil || u.Role != "admin" {
		s.fail(c, http.StatusForbidden, "Admins only", "Only an admin can manage accounts and roles.")
		return
	}
	c.Next()
}

// loggedPath is the path as the access log records it: the secret of a
// one-time or join link is left out.
func loggedPath(path, route string) string {
	if strings.Contains(route, ":token") {
		return route
	}
	return path
}
