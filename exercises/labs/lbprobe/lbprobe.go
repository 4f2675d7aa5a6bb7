// Package lbprobe is the "lb-probe" lab: a small Application Load Balancer
// that runs inside a grading's network, in front of api-worker tasks. It
// health-checks its targets with a target group's settings, routes steady
// traffic to the healthy ones, drains a deregistered target for the
// deregistration delay and then breaks the connections still open to it,
// and counts every request that failed and why.
//
// The grader plays ECS: it registers and deregisters targets through a
// control port that listens on the container's loopback only, reached with
// docker exec, and reads the same counts from /status.
//
// Settings come from the environment, in real (already compressed) time:
//
//	CONTROL_PORT     loopback port of the control API (default 9000)
//	HC_PATH          health check path (default /)
//	HC_INTERVAL      time between checks of one target (default 30s)
//	HC_TIMEOUT       time to wait for a check's answer (default 5s)
//	HC_HEALTHY       passes that bring an unhealthy target back (default 5)
//	HC_UNHEALTHY     failures that make a target unhealthy (default 2)
//	HC_MATCHER       codes that pass: "200", "200,202" or "200-299" (default 200)
//	DEREG_DELAY      how long a deregistered target drains (default 300s)
//	RATE             requests per second once traffic starts (default 20)
//	SHORT_MS, LONG_MS, LONG_EVERY  work of each request: every LONG_EVERY-th
//	                 request asks for LONG_MS, the others for SHORT_MS
//
// Control API: /register?name=N&addr=HOST:PORT, /deregister?name=N,
// /traffic?on=1|0, /status.
package lbprobe

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config is the load balancer's settings.
type Config struct {
	ControlPort string
	Check       HealthCheck
	DeregDelay  time.Duration
	Rate        float64
	Work        WorkMix
}

// HealthCheck is a target group's health check.
type HealthCheck struct {
	Path      string
	Interval  time.Duration
	Timeout   time.Duration
	Healthy   int
	Unhealthy int
	Matcher   Matcher
}

// WorkMix says how long each request asks the target to work.
type WorkMix struct {
	Short, Long time.Duration
	LongEvery   int
}

// ConfigFromEnv reads the settings, falling back to a target group's
// defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{ControlPort: "9000", DeregDelay: 300 * time.Second, Rate: 20,
		Check: HealthCheck{Path: "/", Interval: 30 * time.Second, Timeout: 5 * time.Second, Healthy: 5, Unhealthy: 2},
		Work:  WorkMix{Short: 50 * time.Millisecond, Long: time.Second, LongEvery: 3}}
	var errs []string
	dur := func(name string, into *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				errs = append(errs, fmt.Sprintf("%s=%q is not a duration such as 1.5s", name, v))
				return
			}
			*into = d
		}
	}
	num := func(name string, into *int, lo int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo {
				errs = append(errs, fmt.Sprintf("%s=%q is not a whole number of at least %d", name, v, lo))
				return
			}
			*into = n
		}
	}
	if v := getenv("CONTROL_PORT"); v != "" {
		c.ControlPort = v
	}
	if v := getenv("HC_PATH"); v != "" {
		c.Check.Path = v
	}
	dur("HC_INTERVAL", &c.Check.Interval)
	dur("HC_TIMEOUT", &c.Check.Timeout)
	num("HC_HEALTHY", &c.Check.Healthy, 1)
	num("HC_UNHEALTHY", &c.Check.Unhealthy, 1)
	dur("DEREG_DELAY", &c.DeregDelay)
	dur("SHORT_MS", &c.Work.Short)
	dur("LONG_MS", &c.Work.Long)
	num("LONG_EVERY", &c.Work.LongEvery, 1)
	m, err := ParseMatcher(getenv("HC_MATCHER"))
	if err != nil {
		errs = append(errs, "HC_MATCHER: "+err.Error())
	}
	c.Check.Matcher = m
	if v := getenv("RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || r > 500 {
			errs = append(errs, fmt.Sprintf("RATE=%q is not a rate between 0 and 500 per second", v))
		}
		c.Rate = r
	}
	if c.Check.Interval <= 0 || c.Check.Timeout <= 0 {
		errs = append(errs, "HC_INTERVAL and HC_TIMEOUT must be positive")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return c, nil
}

// Matcher is a set of HTTP codes that pass a health check.
type Matcher struct{ ranges [][2]int }

// ParseMatcher reads "200", "200,202" or "200-299"; empty means 200.
func ParseMatcher(s string) (Matcher, error) {
	if strings.TrimSpace(s) == "" {
		s = "200"
	}
	var m Matcher
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 100 || b > 599 || a > b {
			return m, fmt.Errorf("%q is not an HTTP code or a range of them", part)
		}
		m.ranges = append(m.ranges, [2]int{a, b})
	}
	return m, nil
}

// Match says whether code passes.
func (m Matcher) Match(code int) bool {
	for _, r := range m.ranges {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

// Main runs the load balancer until SIGTERM.
func Main(args []string) int {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With(slog.String("app", "lb-probe"))
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("bad configuration", slog.Any("err", err))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// The control port is for the grader's docker exec only: loopback.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", cfg.ControlPort))
	if err != nil {
		log.Error("listen", slog.Any("err", err))
		return 1
	}
	lb := New(cfg, log)
	srv := &http.Server{Handler: lb.Control(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("ready", slog.String("control", ln.Addr().String()))
	lb.Run(ctx)
	_ = srv.Shutdown(context.Background())
	return 0
}

// Control returns the control API.
func (lb *LoadBalancer) Control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /register", func(w http.ResponseWriter, r *http.Request) {
		name, addr := r.URL.Query().Get("name"), r.URL.Query().Get("addr")
		if name == "" || addr == "" {
			http.Error(w, "register needs name and addr", http.StatusBadRequest)
			return
		}
		if err := lb.Register(name, addr); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		writeJSON(w, lb.Status())
	})
	mux.HandleFunc("GET /deregister", func(w http.ResponseWriter, r *http.Request) {
		if err := lb.Deregister(r.URL.Query().Get("name")); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, lb.Status())
	})
	mux.HandleFunc("GET /traffic", func(w http.ResponseWriter, r *http.Request) {
		lb.Traffic(r.URL.Query().Get("on") == "1")
		writeJSON(w, lb.Status())
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, lb.Status()) })
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
