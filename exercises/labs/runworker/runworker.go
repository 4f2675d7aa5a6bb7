// Package runworker is the lab behind the Cloud Run concurrency exercise: an
// HTTP service that can work on only a fixed number of requests at once. The
// excess waits inside the process, as it would in a real server whose thread
// or connection pool is full. Each request takes a fixed time of waiting (not
// CPU), and the service initialises for a while before it listens, so a cold
// start costs container start plus that initialisation.
//
// Settings (environment): PORT (default 8080), PARALLELISM (requests worked
// on at once, default 4), WORK_MS (time per request, default 40) and INIT_MS
// (initialisation before listening, default 0). Every response carries
// X-Queue-Ms: how long the request waited inside the process for a free
// worker.
package runworker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is what the worker reads from its environment.
type Config struct {
	// Host is the address to listen on; empty means every interface, as
	// Cloud Run's container contract asks.
	Host        string
	Port        string
	Parallelism int
	Work        time.Duration
	Init        time.Duration
}

// ConfigFromEnv reads the settings, rejecting values that make no sense.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Port: "8080", Parallelism: 4, Work: 40 * time.Millisecond}
	if p := getenv("PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("PORT=%q is not a port number", p)
		}
		c.Port = p
	}
	num := func(name string, min, max int) (int, bool, error) {
		v := getenv(name)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return 0, false, fmt.Errorf("%s=%q must be a whole number from %d to %d", name, v, min, max)
		}
		return n, true, nil
	}
	if n, ok, err := num("PARALLELISM", 1, 10000); err != nil {
		return c, err
	} else if ok {
		c.Parallelism = n
	}
	if n, ok, err := num("WORK_MS", 0, 600000); err != nil {
		return c, err
	} else if ok {
		c.Work = time.Duration(n) * time.Millisecond
	}
	if n, ok, err := num("INIT_MS", 0, 600000); err != nil {
		return c, err
	} else if ok {
		c.Init = time.Duration(n) * time.Millisecond
	}
	return c, nil
}

// Worker serves requests with bounded parallelism.
type Worker struct {
	cfg     Config
	slots   chan struct{}
	served  atomic.Int64
	waiting atomic.Int64
	peak    atomic.Int64
	log     *json.Encoder
}

// New returns a worker with the given settings that logs JSON lines to log.
func New(cfg Config, log *json.Encoder) *Worker {
	return &Worker{cfg: cfg, slots: make(chan struct{}, cfg.Parallelism), log: log}
}

// Handler serves / (one unit of work) and /healthz (answers at once).
func (w *Worker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(rw, `{"status":"ok","served":%d}`+"\n", w.served.Load())
	})
	mux.HandleFunc("/", w.work)
	return mux
}

func (w *Worker) work(rw http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	n := w.waiting.Add(1)
	for {
		p := w.peak.Load()
		if n <= p || w.peak.CompareAndSwap(p, n) {
			break
		}
	}
	// Wait for one of the workers: this is the queue inside the instance.
	select {
	case w.slots <- struct{}{}:
	case <-r.Context().Done():
		w.waiting.Add(-1)
		return
	}
	w.waiting.Add(-1)
	queued := time.Since(arrived)
	defer func() { <-w.slots }()
	t := time.NewTimer(w.cfg.Work)
	select {
	case <-t.C:
	case <-r.Context().Done():
		t.Stop()
		return
	}
	w.served.Add(1)
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("X-Queue-Ms", strconv.FormatInt(queued.Milliseconds(), 10))
	fmt.Fprintf(rw, `{"queuedMs":%d,"workMs":%d}`+"\n", queued.Milliseconds(), w.cfg.Work.Milliseconds())
}

func (w *Worker) logf(level, msg string, kv ...any) {
	line := map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "level": level, "msg": msg}
	for i := 0; i+1 < len(kv); i += 2 {
		line[fmt.Sprint(kv[i])] = kv[i+1]
	}
	_ = w.log.Encode(line)
}

// Run initialises, listens and serves until ctx ends, then drains the
// requests in progress for up to drain.
func (w *Worker) Run(ctx context.Context, drain time.Duration) error {
	w.logf("INFO", "initialising", "initMs", w.cfg.Init.Milliseconds(), "parallelism", w.cfg.Parallelism, "workMs", w.cfg.Work.Milliseconds())
	t := time.NewTimer(w.cfg.Init)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		w.logf("INFO", "stopped during initialisation")
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(w.cfg.Host, w.cfg.Port))
	if err != nil {
		return fmt.Errorf("listen on port %s: %w", w.cfg.Port, err)
	}
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	w.logf("INFO", "listening", "port", w.cfg.Port)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	w.logf("INFO", "draining", "inProgress", w.waiting.Load()+int64(len(w.slots)))
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	w.logf("INFO", "stopped", "served", w.served.Load(), "peakWaiting", w.peak.Load())
	return nil
}

// Main runs the worker until SIGTERM or SIGINT, then drains for up to 8 s
// (Cloud Run allows 10 s between SIGTERM and SIGKILL).
func Main(args []string) int {
	log := json.NewEncoder(os.Stdout)
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		_ = log.Encode(map[string]any{"level": "ERROR", "msg": err.Error()})
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	w := New(cfg, log)
	if err := w.Run(ctx, 8*time.Second); err != nil {
		w.logf("ERROR", err.Error())
		return 1
	}
	return 0
}
