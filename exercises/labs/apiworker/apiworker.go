// Package apiworker is the "api-worker" lab: a small HTTP service that
// behaves like a real one where a task definition matters. It takes a while
// to start, holds a working set in memory, needs a database password, and
// drains in-flight requests when it is stopped.
//
// Its timings come from the environment so that a grader can run it with
// time compressed:
//
//	PORT                  port to listen on (default 8080)
//	STARTUP_DELAY         time before /healthz answers 200 (default 10s)
//	WORKING_SET_MB        memory allocated and touched at start (default 64)
//	EXPECT_DB_PASSWORD_SHA256  hex SHA-256 of the password DB_PASSWORD must hold
//	MAX_WORK              longest /work request accepted (default 10m)
//
// Endpoints: /healthz (200 once started, 503 before), /work?ms=N (answers
// after N milliseconds), /secret (whether DB_PASSWORD is the expected one),
// /control/health?fail=1|0 (makes /healthz fail, to test a health check).
package apiworker

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is the worker's settings, read from the environment.
type Config struct {
	Port           string
	StartupDelay   time.Duration
	WorkingSetMB   int
	ExpectPassword string // hex SHA-256; empty: not checked
	MaxWork        time.Duration
}

// ConfigFromEnv reads the settings, falling back to defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Port: "8080", StartupDelay: 10 * time.Second, WorkingSetMB: 64, MaxWork: 10 * time.Minute}
	if v := getenv("PORT"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("PORT=%q is not a port number", v)
		}
		c.Port = v
	}
	dur := func(name string, into *time.Duration) error {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("%s=%q is not a duration such as 1.5s", name, v)
			}
			*into = d
		}
		return nil
	}
	if err := dur("STARTUP_DELAY", &c.StartupDelay); err != nil {
		return c, err
	}
	if err := dur("MAX_WORK", &c.MaxWork); err != nil {
		return c, err
	}
	if v := getenv("WORKING_SET_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 64<<10 {
			return c, fmt.Errorf("WORKING_SET_MB=%q is not a size in MiB", v)
		}
		c.WorkingSetMB = n
	}
	c.ExpectPassword = getenv("EXPECT_DB_PASSWORD_SHA256")
	return c, nil
}

// Main runs the worker until SIGTERM or SIGINT, then drains and exits 0.
func Main(args []string) int {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With(slog.String("app", "api-worker"))
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("bad configuration", slog.Any("err", err))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", ":"+cfg.Port)
	if err != nil {
		log.Error("listen", slog.Any("err", err))
		return 1
	}
	w := New(cfg, log, os.Getenv("DB_PASSWORD"))
	if err := w.Serve(ctx, ln); err != nil {
		log.Error("serve", slog.Any("err", err))
		return 1
	}
	return 0
}

// Worker is the service.
type Worker struct {
	cfg      Config
	log      *slog.Logger
	password string
	started  atomic.Bool
	failing  atomic.Bool
	inflight atomic.Int64
	memory   []byte
}

// New returns a worker; password is the DB_PASSWORD it was given.
func New(cfg Config, log *slog.Logger, password string) *Worker {
	return &Worker{cfg: cfg, log: log, password: password}
}

// Serve starts up (allocating the working set, then waiting the start-up
// delay), serves on ln, and when ctx ends stops accepting, finishes the
// requests in flight and returns.
func (w *Worker) Serve(ctx context.Context, ln net.Listener) error {
	w.log.Info("starting", slog.String("port", w.cfg.Port), slog.Duration("startupDelay", w.cfg.StartupDelay),
		slog.Int("workingSetMB", w.cfg.WorkingSetMB), slog.String("dbPassword", w.passwordState()))
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	// The start-up delay runs from process start; the working set is
	// taken during it, as a real service loads its data while starting.
	startup := time.NewTimer(w.cfg.StartupDelay)
	w.allocate()
	select {
	case <-startup.C:
		w.started.Store(true)
		w.log.Info("ready", slog.Int("workingSetMB", w.cfg.WorkingSetMB))
	case <-ctx.Done():
		startup.Stop()
	case err := <-errc:
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	w.log.Info("SIGTERM received: draining", slog.Int64("inFlight", w.inflight.Load()))
	began := time.Now()
	// No deadline of our own: the platform's stop timeout is the deadline,
	// and SIGKILL ends us if the drain outlasts it.
	if err := srv.Shutdown(context.Background()); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	runtime.KeepAlive(w.memory)
	w.log.Info("drained: exiting", slog.Duration("took", time.Since(began)))
	return nil
}

// allocate really takes the working set: every page is written, so the
// memory counts against the container's limit.
func (w *Worker) allocate() {
	if w.cfg.WorkingSetMB == 0 {
		return
	}
	w.memory = make([]byte, w.cfg.WorkingSetMB<<20)
	for i := 0; i < len(w.memory); i += 4096 {
		w.memory[i] = byte(i)
	}
	w.log.Info("working set allocated", slog.Int("mb", w.cfg.WorkingSetMB))
}

func (w *Worker) passwordState() string {
	switch {
	case w.cfg.ExpectPassword == "":
		return "unchecked"
	case w.password == "":
		return "missing"
	}
	sum := sha256.Sum256([]byte(w.password))
	want, err := hex.DecodeString(w.cfg.ExpectPassword)
	if err != nil || subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return "mismatch"
	}
	return "ok"
}

// Handler returns the worker's HTTP routes.
func (w *Worker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", w.healthz)
	mux.HandleFunc("GET /work", w.work)
	mux.HandleFunc("GET /secret", func(rw http.ResponseWriter, r *http.Request) {
		writeJSON(rw, http.StatusOK, map[string]string{"dbPassword": w.passwordState()})
	})
	mux.HandleFunc("POST /control/health", func(rw http.ResponseWriter, r *http.Request) {
		fail := r.URL.Query().Get("fail") == "1"
		w.failing.Store(fail)
		w.log.Info("health forced", slog.Bool("failing", fail))
		writeJSON(rw, http.StatusOK, map[string]bool{"failing": fail})
	})
	mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, r *http.Request) {
		writeJSON(rw, http.StatusOK, map[string]any{"app": "api-worker", "started": w.started.Load()})
	})
	return mux
}

func (w *Worker) healthz(rw http.ResponseWriter, r *http.Request) {
	switch {
	case w.failing.Load():
		writeJSON(rw, http.StatusServiceUnavailable, map[string]string{"status": "failing"})
	case !w.started.Load():
		writeJSON(rw, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
	default:
		writeJSON(rw, http.StatusOK, map[string]string{"status": "ok"})
	}
}

func (w *Worker) work(rw http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > w.cfg.MaxWork {
		writeJSON(rw, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("ms must be a number of milliseconds up to %d", w.cfg.MaxWork.Milliseconds())})
		return
	}
	n := w.inflight.Add(1)
	defer w.inflight.Add(-1)
	w.log.Info("work started", slog.Int("ms", ms), slog.Int64("inFlight", n))
	// The headers go out at once, so a client knows its request is in
	// flight; the body follows when the work is done. A body cut short means
	// the process died mid-request.
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusOK)
	if f, ok := rw.(http.Flusher); ok {
		f.Flush()
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		w.log.Warn("work abandoned by client", slog.Int("ms", ms))
		return
	}
	w.log.Info("work done", slog.Int("ms", ms))
	_ = json.NewEncoder(rw).Encode(map[string]any{"ms": ms, "done": true})
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	if err := json.NewEncoder(rw).Encode(v); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		return
	}
}
