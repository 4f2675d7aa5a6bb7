package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"coldstart/grader/jobs"
	"coldstart/grader/sandbox"
)

// GraderNode is `coldstart grader`: a grading node beside its own container
// engine. It needs no course files and no database: every job carries what
// it grades.
type GraderNode struct {
	NATS      string
	NATSToken string
	// NATSCA is a CA file for a NATS server whose certificate no system CA
	// signs.
	NATSCA         string
	Name           string
	Workers        int
	Addr           string // /healthz and /metrics; empty: none
	DockerHost     string
	GradingTimeout time.Duration
	Grace          time.Duration
	Engine         EngineLimits
	LogLevel       string

	Logger *slog.Logger
	// Ready, when set, receives the health listener's address once the
	// node runs.
	Ready chan<- string
}

// nodeName is what a node may be called: it names the node in verdicts and
// labels its containers.
var nodeName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func runGrader(ctx context.Context, args []string, s Streams) error {
	g := &GraderNode{}
	if err := g.ParseFlags(args, s.Stderr); err != nil {
		return err
	}
	if g.Logger == nil {
		g.Logger = newJSONLogger(s.Stdout, g.LogLevel)
	}
	return g.Run(ctx)
}

// ParseFlags reads the command line, with COLDSTART_* environment
// variables as defaults.
func (g *GraderNode) ParseFlags(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("grader", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&g.NATS, "nats", env("COLDSTART_NATS", ""), "URL of the NATS server the web server uses, e.g. nats://web.example.com:4222 or tls://… (COLDSTART_NATS)")
	g.NATSToken = os.Getenv("COLDSTART_NATS_TOKEN")
	fs.StringVar(&g.NATSToken, "nats-token", g.NATSToken, "the web server's --nats-token; prefer the environment variable (COLDSTART_NATS_TOKEN)")
	fs.StringVar(&g.NATSCA, "nats-ca", env("COLDSTART_NATS_CA", ""), "CA certificate file (PEM) that signed the NATS server's certificate, when no system CA did (COLDSTART_NATS_CA)")
	host, _ := os.Hostname()
	fs.StringVar(&g.Name, "name", env("COLDSTART_NODE_NAME", strings.ToLower(host)), "this node's name in verdicts and on its containers: lowercase letters, digits, '.', '-', '_' (COLDSTART_NODE_NAME)")
	workers, _ := strconv.Atoi(env("COLDSTART_WORKERS", strconv.Itoa(runtime.NumCPU())))
	fs.IntVar(&g.Workers, "workers", workers, "gradings this node runs at the same time (COLDSTART_WORKERS)")
	fs.StringVar(&g.Addr, "addr", env("COLDSTART_ADDR", "127.0.0.1:8090"), "address of /healthz and /metrics; off: none (COLDSTART_ADDR)")
	fs.StringVar(&g.DockerHost, "docker-host", "", "the Docker engine this node grades on (default: DOCKER_HOST, else the local socket; no other engine is tried)")
	timeout, err := time.ParseDuration(env("COLDSTART_GRADING_TIMEOUT", "60s"))
	if err != nil {
		return fmt.Errorf("COLDSTART_GRADING_TIMEOUT: %w", err)
	}
	fs.DurationVar(&g.GradingTimeout, "grading-timeout", timeout, "longest one grading may run, at most 60s (COLDSTART_GRADING_TIMEOUT)")
	fs.DurationVar(&g.Grace, "grace", 20*time.Second, "how long running gradings may finish at shutdown before they are handed to another node")
	g.Engine.register(fs)
	fs.StringVar(&g.LogLevel, "log-level", env("COLDSTART_LOG_LEVEL", "info"), "debug, info, warn or error (COLDSTART_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "grader takes no arguments, got %q\n", fs.Args())
		return errUsage
	}
	if g.Addr == "off" {
		g.Addr = ""
	}
	return g.validate()
}

func (g *GraderNode) validate() error {
	if g.NATS == "" {
		return errors.New("--nats is required: the URL of the NATS server the web server uses (its --nats-listen, or its --nats)")
	}
	for _, u := range strings.Split(g.NATS, ",") {
		u = strings.TrimSpace(u)
		if !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
			return fmt.Errorf("--nats %q: each URL starts with nats:// or tls://", u)
		}
	}
	if !nodeName.MatchString(g.Name) {
		return fmt.Errorf("--name %q: use 1–63 lowercase letters, digits, '.', '-' or '_', starting with a letter or digit", g.Name)
	}
	if g.Name == LocalNode {
		return fmt.Errorf("--name %q is the web server's own node; pick another name", g.Name)
	}
	if g.Workers < 1 || g.Workers > 64 {
		return fmt.Errorf("--workers must be between 1 and 64, not %d", g.Workers)
	}
	if g.GradingTimeout <= 0 || g.GradingTimeout > 60*time.Second {
		return fmt.Errorf("--grading-timeout must be more than 0 and at most 60s, not %s", g.GradingTimeout)
	}
	if g.Grace < 0 || g.Grace > time.Minute {
		return fmt.Errorf("--grace must be between 0 and 1m, not %s", g.Grace)
	}
	return g.Engine.validate()
}

// Run grades until ctx ends, then finishes or hands back the gradings it
// holds within the grace period.
func (g *GraderNode) Run(ctx context.Context) error {
	logger := g.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With(slog.String("node", g.Name))
	var ln net.Listener
	if g.Addr != "" {
		var err error
		if ln, err = net.Listen("tcp", g.Addr); err != nil {
			return fmt.Errorf("listen on --addr %s: %w", g.Addr, err)
		}
		defer ln.Close()
	}
	// Containers carry the node's name, so a node sweeps what it left and
	// leaves alone what other nodes or servers on the same engine run.
	sb, err := g.Engine.newSandbox(dockerHost(g.DockerHost), "node-"+g.Name, logger)
	if err != nil {
		return err
	}
	defer sb.Close()
	registry := prometheus.NewRegistry()
	sandbox.ObserveLabBuilds(newLabMetrics(registry).observe)
	sandbox.ObserveContainerStarts(newContainerMetrics(registry).observe)
	go logEngine(ctx, sb, logger)
	engine := gradingEngine(sb, logger)
	engine.TimeLimit = g.GradingTimeout
	registry.MustRegister(engineUpGauge(engine.Ready))

	opts := []nats.Option{nats.Name("coldstart grader " + g.Name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(true), nats.PingInterval(5 * time.Second), nats.MaxPingsOutstanding(3),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			logger.Warn("lost the connection to NATS; reconnecting", slog.Any("err", err))
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			logger.Info("connected to NATS again", slog.String("server", c.ConnectedUrlRedacted()))
		})}
	if g.NATSToken != "" {
		opts = append(opts, nats.Token(g.NATSToken))
	}
	if g.NATSCA != "" {
		opts = append(opts, nats.RootCAs(g.NATSCA))
	}
	nc, err := nats.Connect(g.NATS, opts...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", g.NATS, err)
	}
	defer nc.Close()
	node, err := jobs.NewNode(jobs.NodeOptions{Name: g.Name, Workers: g.Workers, Grader: engine, Conn: nc, Logger: logger,
		Sweep: sb.Sweep, Grace: g.Grace})
	if err != nil {
		return err
	}
	registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "coldstart_node_busy_workers", Help: "Gradings this node runs now."},
			func() float64 { return float64(node.Busy()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "coldstart_node_workers", Help: "Gradings this node may run at once."},
			func() float64 { return float64(g.Workers) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "coldstart_node_graded_total", Help: "Verdicts this node has handed to the web server."},
			func() float64 { return float64(node.Graded()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "coldstart_node_nats_connected", Help: "1 while the node is connected to NATS."},
			func() float64 {
				if nc.Status() == nats.CONNECTED {
					return 1
				}
				return 0
			}),
	)
	if ln != nil {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { nodeHealth(w, r, nc, node) })
		mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
	}
	logger.Info("grader node", slog.String("nats", nc.ConnectedUrlRedacted()), slog.Int("workers", g.Workers),
		slog.String("docker_host", sb.Host()))
	if g.Ready != nil {
		addr := ""
		if ln != nil {
			addr = ln.Addr().String()
		}
		g.Ready <- addr
	}
	if err := node.Run(ctx); err != nil {
		return err
	}
	// Let the last handed-back jobs and heartbeats reach the server.
	fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = nc.FlushWithContext(fctx)
	logger.Info("stopped", slog.Int64("graded", node.Graded()))
	return nil
}

// nodeHealth answers 200 while the node can take jobs, else 503 with why.
func nodeHealth(w http.ResponseWriter, r *http.Request, nc *nats.Conn, node *jobs.Node) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	out := map[string]any{"status": "ok", "node": node.Name(), "busy": node.Busy(), "graded": node.Graded()}
	code := http.StatusOK
	switch err := node.Ready(ctx); {
	case nc.Status() != nats.CONNECTED:
		out["status"], out["reason"] = "unavailable", "not connected to NATS ("+strings.ToLower(nc.Status().String())+")"
		code = http.StatusServiceUnavailable
	case err != nil:
		out["status"], out["reason"] = "unavailable", "not grading yet: "+err.Error()
		code = http.StatusServiceUnavailable
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
