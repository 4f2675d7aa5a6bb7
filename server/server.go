// Package server is the course server: gin handlers for the pages a student
// and an instructor use, sessions and CSRF protection, the grading pipeline
// from a submission to its verdict, and the operational endpoints.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"coldstart/content"
	"coldstart/server/grading"
	"coldstart/server/store"
	"coldstart/web"
)

// Session limits: a session ends DefaultSessionTTL after sign-in, or
// earlier when it has not been used for DefaultSessionIdle.
const (
	DefaultSessionTTL  = 30 * 24 * time.Hour
	DefaultSessionIdle = 7 * 24 * time.Hour
)

// Config is what a Server needs.
type Config struct {
	Store  *store.Store
	Course CourseSource
	Grader grading.Grader
	Pool   Queue // grades the queued jobs; nil in tests that only read
	// QueueCap bounds the answers waiting server-wide (default
	// DefaultQueueCap); past it a student is told the graders are busy.
	QueueCap int
	Logger   *slog.Logger
	// SignupOpen lets visitors create accounts (the first is always allowed).
	SignupOpen bool
	// PublicURL is the address users reach the server at (for links handed
	// over: invitations, resets, join links); empty: the request's host.
	PublicURL string
	// OIDC, when set, offers single sign-on through an OpenID Connect
	// provider at /auth/oidc/login.
	OIDC *OIDCConfig
	// NoPasswordLogin turns email and password sign-in (and sign-up) off,
	// for servers where everyone signs in through OIDC.
	NoPasswordLogin bool
	// Watch makes pages reload when the course changes.
	Watch bool
	// SecureCookies marks cookies Secure even when the request did not come
	// over TLS (behind a TLS-terminating proxy).
	SecureCookies bool
	// TrustedProxies lists the addresses or CIDR ranges of reverse proxies
	// whose X-Forwarded-For or X-Real-IP header names the client. Empty:
	// no forwarded header is believed and the client is the peer address.
	TrustedProxies []string
	// MetricsToken, when set, lets /metrics and the details of /readyz be
	// read on the public listener with Authorization: Bearer MetricsToken.
	// Without it they are only on OpsHandler.
	MetricsToken string
	// MaxBodyBytes bounds every request body (default 1 MiB).
	MaxBodyBytes int64
	SessionTTL   time.Duration // absolute limit of a session; default DefaultSessionTTL
	SessionIdle  time.Duration // a session unused this long ends; default DefaultSessionIdle
	Registry     *prometheus.Registry
	Now          func() time.Time
}

// Server serves the course.
type Server struct {
	cfg      Config
	store    *store.Store
	course   CourseSource
	grader   grading.Grader
	pool     Queue
	hub      *grading.Hub
	logger   *slog.Logger
	views    *views
	assets   *web.Assets
	index    indexCache
	sessions *sessionCache
	progress *progressCache

	throttles    throttles
	crossOrigin  *http.CrossOriginProtection
	streams      streamCounts
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	routeMetrics routeMetrics
	streamsOpen  *prometheus.GaugeVec
	oidc         *oidcFlow

	closing   chan struct{}
	closeOnce sync.Once
	engine    *gin.Engine
}

// New builds a server; it checks the templates and assets.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Course == nil || cfg.Grader == nil {
		return nil, errors.New("server: a store, a course and a grader are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.QueueCap <= 0 {
		cfg.QueueCap = DefaultQueueCap
	}
	assets, err := web.LoadAssets(map[string][]byte{"app.css": []byte("\n/* Code highlighting */\n" + content.HighlightCSS() + barWidthCSS())})
	if err != nil {
		return nil, err
	}
	v, err := loadViews(assets)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: cfg.Store, course: cfg.Course, grader: cfg.Grader, pool: cfg.Pool, logger: cfg.Logger,
		views: v, assets: assets, sessions: newSessionCache(), progress: newProgressCache(),
		throttles: newThrottles(cfg.Now), crossOrigin: http.NewCrossOriginProtection(),
		registry: cfg.Registry, closing: make(chan struct{})}
	if cfg.OIDC != nil {
		s.oidc = &oidcFlow{cfg: cfg.OIDC}
	}
	if cfg.Pool != nil {
		cfg.Pool.OnFinish(s.progress.forget)
		s.hub = cfg.Pool.Hub()
	} else {
		s.hub = grading.NewHub()
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coldstart_http_requests_total",
		Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "coldstart_http_request_seconds",
		Help: "HTTP request latency by route.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}, []string{"route"})
	s.streamsOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "coldstart_streams_open",
		Help: "Server-sent event streams open now, by kind (grading: a page following a grading; reload: --watch)."}, []string{"kind"})
	for _, c := range []prometheus.Collector{s.requests, s.latency, s.streamsOpen} {
		if err := s.registry.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	_ = s.registry.Register(collectors.NewGoCollector())
	_ = s.registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.engine, err = s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Close ends the long-lived streams (live grading, live reload) so that
// http.Server.Shutdown can finish; call it when shutdown begins.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closing) }) }

// HTTPServer returns an http.Server with the timeouts this server wants.
func (s *Server) HTTPServer(addr string) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		Handler:           s.engine,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Streams lift this deadline for themselves (see stream.go).
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		ConnContext:    withPageConn,
	}
	srv.RegisterOnShutdown(s.Close)
	return srv
}

func (s *Server) routes() (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// gin trusts every proxy unless told otherwise; a client could then
	// claim any address and escape the limits kept per address.
	if err := r.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	r.RedirectTrailingSlash = true
	r.HandleMethodNotAllowed = false
	r.ContextWithFallback = true
	r.Use(s.securityHeaders, s.requestID, s.recoverPanic, s.accessLog, s.limitBody, s.loadSession, s.checkCSRF)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics)
	r.GET("/static/:name", s.static)
	r.HEAD("/static/:name", s.static)

	r.GET("/", s.home)
	r.GET("/lessons/:slug", s.lesson)
	r.POST("/lessons/:slug/complete", s.requireUser, s.completeLesson)
	r.POST("/quiz/*id", s.answerQuiz)
	r.GET("/exercises/:id", s.exercise)
	r.POST("/exercises/:id/submit", s.requireUser, s.submit)
	r.GET("/submissions/:id/events", s.requireUser, s.submissionEvents)
	r.GET("/submissions/:id/result", s.requireUser, s.submissionResult)
	r.GET("/submissions/:id", s.requireUser, s.submissionJSON)
	r.GET("/progress", s.requireUser, s.progressPage)
	r.GET("/cohort", s.requireUser, s.requireTeacher, s.cohort)
	r.POST("/cohort/role", s.requireUser, s.requireAdmin, s.setRole)
	r.GET("/events/reload", s.reloadEvents)

	r.GET("/signin", s.signinPage)
	r.POST("/signin", s.signin)
	r.GET("/signup", s.signupPage)
	r.POST("/signup", s.signup)
	r.POST("/signout", s.signout)
	s.accountRoutes(r)
	s.cohortRoutes(r)

	r.NoRoute(func(c *gin.Context) {
		s.fail(c, http.StatusNotFound, "This page does not exist", "The address may be mistyped, or the page was moved.")
	})
	return r, nil
}

// ready checks what /readyz reports.
func (s *Server) ready(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	if err := s.store.Ping(ctx); err != nil {
		out["database"] = err.Error()
	} else {
		out["database"] = "ok"
	}
	c := s.course.Course()
	switch {
	case c == nil:
		out["course"] = "not loaded"
	case s.course.Err() != nil:
		out["course"] = "ok (serving the last good version: " + s.course.Err().Error() + ")"
	default:
		out["course"] = "ok"
	}
	ready := s.grader.Ready
	if s.pool != nil {
		ready = s.pool.Ready
	}
	err := ready(ctx)
	if err != nil {
		out["grader"] = "degraded: " + err.Error()
	} else {
		out["grader"] = "ok"
	}
	return out, err
}
