package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/grader/jobs"
	"coldstart/grader/sandbox"
	"coldstart/server"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// ShutdownLimit bounds a graceful shutdown: the process exits within it.
const ShutdownLimit = 30 * time.Second

// Main is the course server as a program: parse flags, Run until the
// context ends, then shut down gracefully. Tests start the real server
// through it.
type Main struct {
	Addr           string
	DB             string
	Course         string // course directory; empty: the built-in course
	Watch          bool
	Signup         string // open or closed
	Workers        int
	GradingTimeout time.Duration
	SecureCookies  bool
	// TrustedProxies are the proxies whose forwarded headers name the client.
	TrustedProxies []string
	// MetricsAddr, when set, is a second listener for /metrics and a
	// detailed /readyz; MetricsToken opens them on the main one.
	MetricsAddr  string
	MetricsToken string
	// PublicURL is the address users reach the server at, for the links it
	// hands out; empty: the address each request came to.
	PublicURL string
	// OIDC* configure single sign-on; PasswordLogin false leaves only it.
	OIDCIssuer, OIDCClientID, OIDCClientSecret, OIDCName string
	OIDCAllowedDomains                                   []string
	OIDCInstructorGroup, OIDCAdminGroup                  string
	PasswordLogin                                        bool
	LogLevel                                             string
	// Grace is how long running gradings may finish at shutdown before they
	// are stopped and queued again (default 20s, under ShutdownLimit).
	Grace time.Duration
	// BackupEvery, when more than 0, writes a backup into BackupDir that
	// often and keeps the newest BackupKeep.
	BackupEvery time.Duration
	BackupDir   string
	BackupKeep  int
	// DockerHost is the engine gradings run on; empty: DOCKER_HOST, else
	// the local socket.
	DockerHost string
	// Engine bounds what gradings hold on the container engine.
	Engine EngineLimits
	// NATS is where the grading queue lives.
	NATS NATSConfig
	// NoLocalGrading leaves grading to nodes elsewhere (--workers 0): this
	// process then needs no container engine.
	NoLocalGrading bool
	// QueueCap bounds the answers waiting server-wide (default
	// server.DefaultQueueCap).
	QueueCap int

	// Grader replaces the grading engine (tests); nil builds the real one.
	Grader grading.Grader
	Logger *slog.Logger
	// Ready, when set, receives the listening address once serving.
	Ready chan<- string
}

func runServe(ctx context.Context, args []string, s Streams) error {
	m := &Main{}
	if err := m.ParseFlags(args, s.Stderr); err != nil {
		return err
	}
	paceGC()
	if m.Logger == nil {
		logs := newLogBuffer(s.Stdout)
		defer logs.Close()
		m.Logger = slog.New(flushOnWarn{newJSONLogger(logs, m.LogLevel).Handler(), logs})
	}
	return m.Run(ctx)
}

func newJSONLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// ParseFlags reads the command line, with COLDSTART_* environment variables
// as defaults.
func (m *Main) ParseFlags(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&m.Addr, "addr", env("COLDSTART_ADDR", "127.0.0.1:8080"), "address to listen on; the default is reachable from this machine only, :8080 listens on every interface (COLDSTART_ADDR)")
	fs.StringVar(&m.DB, "db", env("COLDSTART_DB", "coldstart.db"), "SQLite database file (COLDSTART_DB)")
	fs.StringVar(&m.Course, "course", env("COLDSTART_COURSE", ""), "course directory; empty serves the built-in course (COLDSTART_COURSE)")
	watchDefault, _ := strconv.ParseBool(env("COLDSTART_WATCH", "false"))
	fs.BoolVar(&m.Watch, "watch", watchDefault, "reload the course directory when its files change, and reload open pages (COLDSTART_WATCH)")
	fs.StringVar(&m.Signup, "signup", env("COLDSTART_SIGNUP", "open"), "open: visitors may create student accounts; closed: accounts only by invitation (COLDSTART_SIGNUP)")
	workers, _ := strconv.Atoi(env("COLDSTART_WORKERS", strconv.Itoa(runtime.NumCPU())))
	fs.IntVar(&m.Workers, "workers", workers, "gradings this machine runs at the same time; 0 grades nothing here and leaves it to `coldstart grader` nodes (COLDSTART_WORKERS)")
	queueCap, _ := strconv.Atoi(env("COLDSTART_QUEUE_CAP", strconv.Itoa(server.DefaultQueueCap)))
	fs.IntVar(&m.QueueCap, "queue-cap", queueCap, "answers that may wait to be graded server-wide; past it students are told the graders are busy (COLDSTART_QUEUE_CAP)")
	timeout, err := time.ParseDuration(env("COLDSTART_GRADING_TIMEOUT", "60s"))
	if err != nil {
		return fmt.Errorf("COLDSTART_GRADING_TIMEOUT: %w", err)
	}
	fs.DurationVar(&m.GradingTimeout, "grading-timeout", timeout, "longest one grading may run, at most 60s (COLDSTART_GRADING_TIMEOUT)")
	secure, _ := strconv.ParseBool(env("COLDSTART_SECURE_COOKIES", "false"))
	fs.BoolVar(&m.SecureCookies, "secure-cookies", secure, "mark cookies Secure, for a server behind a TLS proxy (COLDSTART_SECURE_COOKIES)")
	proxies := env("COLDSTART_TRUSTED_PROXIES", "")
	fs.StringVar(&proxies, "trusted-proxies", proxies, "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client; empty trusts none (COLDSTART_TRUSTED_PROXIES)")
	fs.StringVar(&m.MetricsAddr, "metrics-addr", env("COLDSTART_METRICS_ADDR", ""), "address of a separate listener for /metrics and a detailed /readyz, e.g. 127.0.0.1:9090 (COLDSTART_METRICS_ADDR)")
	m.MetricsToken = os.Getenv("COLDSTART_METRICS_TOKEN")
	every, err := time.ParseDuration(env("COLDSTART_BACKUP_EVERY", "0s"))
	if err != nil {
		return fmt.Errorf("COLDSTART_BACKUP_EVERY: %w", err)
	}
	fs.DurationVar(&m.BackupEvery, "backup-every", every, "write a verified backup this often, e.g. 6h; 0 turns it off (COLDSTART_BACKUP_EVERY)")
	fs.StringVar(&m.BackupDir, "backup-dir", env("COLDSTART_BACKUP_DIR", ""), "directory for scheduled backups; empty: backups/ beside the database (COLDSTART_BACKUP_DIR)")
	keep, _ := strconv.Atoi(env("COLDSTART_BACKUP_KEEP", "7"))
	fs.IntVar(&m.BackupKeep, "backup-keep", keep, "scheduled backups to keep; older ones are removed (COLDSTART_BACKUP_KEEP)")
	fs.StringVar(&m.PublicURL, "public-url", env("COLDSTART_PUBLIC_URL", ""), "address users reach the server at, e.g. https://course.example.com, for invitation, reset and sign-in links (COLDSTART_PUBLIC_URL)")
	fs.StringVar(&m.OIDCIssuer, "oidc-issuer", env("COLDSTART_OIDC_ISSUER", ""), "OpenID Connect issuer URL for single sign-on, e.g. https://login.example.com (COLDSTART_OIDC_ISSUER)")
	fs.StringVar(&m.OIDCClientID, "oidc-client-id", env("COLDSTART_OIDC_CLIENT_ID", ""), "client ID registered at the provider (COLDSTART_OIDC_CLIENT_ID)")
	fs.StringVar(&m.OIDCClientSecret, "oidc-client-secret", env("COLDSTART_OIDC_CLIENT_SECRET", ""), "client secret; prefer the environment variable (COLDSTART_OIDC_CLIENT_SECRET)")
	fs.StringVar(&m.OIDCName, "oidc-name", env("COLDSTART_OIDC_NAME", ""), "what the sign-in button says after \"Sign in with\" (COLDSTART_OIDC_NAME)")
	domains := env("COLDSTART_OIDC_ALLOWED_DOMAINS", "")
	fs.StringVar(&domains, "oidc-allowed-domains", domains, "comma-separated email domains let in through single sign-on; empty lets every verified email in (COLDSTART_OIDC_ALLOWED_DOMAINS)")
	fs.StringVar(&m.OIDCInstructorGroup, "oidc-instructor-group", env("COLDSTART_OIDC_INSTRUCTOR_GROUP", ""), "members of this group (groups claim) become instructors (COLDSTART_OIDC_INSTRUCTOR_GROUP)")
	fs.StringVar(&m.OIDCAdminGroup, "oidc-admin-group", env("COLDSTART_OIDC_ADMIN_GROUP", ""), "members of this group (groups claim) become admins (COLDSTART_OIDC_ADMIN_GROUP)")
	passwords, _ := strconv.ParseBool(env("COLDSTART_PASSWORD_LOGIN", "true"))
	fs.BoolVar(&m.PasswordLogin, "password-login", passwords, "allow email and password sign-in; false for servers where everyone uses single sign-on (COLDSTART_PASSWORD_LOGIN)")
	fs.StringVar(&m.DockerHost, "docker-host", "", "the Docker engine gradings run on, e.g. unix:///var/run/docker.sock or tcp://grader:2376 (default: DOCKER_HOST, else the local socket; no other engine is tried)")
	m.Engine.register(fs)
	if err := m.NATS.register(fs); err != nil {
		return err
	}
	fs.StringVar(&m.LogLevel, "log-level", env("COLDSTART_LOG_LEVEL", "info"), "debug, info, warn or error (COLDSTART_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve takes no arguments, got %q\n", fs.Args())
		return errUsage
	}
	m.NoLocalGrading = m.Workers == 0
	if m.TrustedProxies, err = parseProxies(proxies); err != nil {
		return err
	}
	for _, d := range strings.Split(domains, ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			m.OIDCAllowedDomains = append(m.OIDCAllowedDomains, d)
		}
	}
	return m.validate()
}

func (m *Main) validate() error {
	switch m.Signup {
	case "open", "closed":
	default:
		return fmt.Errorf("--signup must be open or closed, not %q", m.Signup)
	}
	if m.Workers < 0 || m.Workers > 64 {
		return fmt.Errorf("--workers must be between 0 and 64, not %d", m.Workers)
	}
	if m.QueueCap < 0 || m.QueueCap > 1_000_000 {
		return fmt.Errorf("--queue-cap must be between 1 and 1000000, not %d", m.QueueCap)
	}
	if m.GradingTimeout <= 0 || m.GradingTimeout > 60*time.Second {
		return fmt.Errorf("--grading-timeout must be more than 0 and at most 60s, not %s", m.GradingTimeout)
	}
	if m.BackupEvery < 0 || (m.BackupEvery > 0 && m.BackupEvery < time.Minute) {
		return fmt.Errorf("--backup-every must be 0 (off) or at least 1m, not %s", m.BackupEvery)
	}
	if m.BackupKeep < 1 || m.BackupKeep > 1000 {
		return fmt.Errorf("--backup-keep must be between 1 and 1000, not %d", m.BackupKeep)
	}
	if m.PublicURL != "" {
		u, err := publicURL(m.PublicURL)
		if err != nil {
			return err
		}
		m.PublicURL = u
	}
	if err := m.validateOIDC(); err != nil {
		return err
	}
	if err := m.Engine.validate(); err != nil {
		return err
	}
	if err := m.NATS.validate(); err != nil {
		return err
	}
	if m.Watch && m.Course == "" {
		return errors.New("--watch needs --course DIR: the built-in course is part of the binary and cannot change")
	}
	return nil
}

// parseProxies reads a comma-separated list of IP addresses and CIDR
// ranges.
func parseProxies(list string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return nil, fmt.Errorf("--trusted-proxies: %q is neither an IP address nor a CIDR range like 10.0.0.0/8", p)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// Run serves until ctx ends, then shuts down: it stops accepting, drains
// requests in flight, lets running gradings finish or queues them again,
// and returns within ShutdownLimit.
func (m *Main) Run(ctx context.Context) error {
	start := time.Now()
	logger := m.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if m.Workers == 0 && !m.NoLocalGrading {
		m.Workers = runtime.NumCPU()
	}
	if m.NATS.AckWait == 0 {
		m.NATS.AckWait = jobs.DefaultAckWait
	}
	if m.GradingTimeout == 0 {
		m.GradingTimeout = 60 * time.Second
	}
	if m.Signup == "" {
		m.Signup = "open"
	}

	// Listen first: a port that is taken is the most common start-up error.
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Addr, err)
	}
	defer ln.Close()
	var opsLn net.Listener
	if m.MetricsAddr != "" {
		if opsLn, err = net.Listen("tcp", m.MetricsAddr); err != nil {
			return fmt.Errorf("listen on --metrics-addr %s: %w", m.MetricsAddr, err)
		}
		defer opsLn.Close()
	}

	// Held until the server stops: restore refuses while it is, and a
	// second server on the same file refuses to start.
	lock, err := store.LockDatabase(m.DB)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	st, err := store.Open(ctx, m.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	if u := st.Upgrade; u != nil {
		logger.Info("database upgraded", slog.Int("from_schema", u.From), slog.Int("to_schema", u.To), slog.String("backup", u.Backup))
	}

	// The course loads while the grader connects to the container engine.
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	var source server.CourseSource
	var courseErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		source, courseErr = m.loadCourse(watchCtx, logger)
	}()
	registry := prometheus.NewRegistry()
	g := m.Grader
	var sweep func(context.Context) (int, error)
	switch {
	case g == nil && m.NoLocalGrading:
		// Forms and variants need no engine; nodes elsewhere grade.
		g = gradingEngine(nil, logger)
	case g == nil:
		// The instance id comes from the database, so a restart on the same
		// database sweeps what a crash left, and only that.
		instance, err := st.InstanceID(ctx)
		if err != nil {
			return err
		}
		sb, err := m.Engine.newSandbox(dockerHost(m.DockerHost), instance, logger)
		if err != nil {
			return err
		}
		defer sb.Close()
		sandbox.ObserveLabBuilds(newLabMetrics(registry).observe)
		sandbox.ObserveContainerStarts(newContainerMetrics(registry).observe)
		go logEngine(ctx, sb, logger)
		engine := gradingEngine(sb, logger)
		engine.TimeLimit = m.GradingTimeout
		g, sweep = engine, sb.Sweep
	}
	if !m.NoLocalGrading {
		registry.MustRegister(engineUpGauge(g.Ready))
	}
	wg.Wait()
	if courseErr != nil {
		return courseErr
	}

	queue, err := m.startQueue(queueParts{store: st, course: source.Course, hub: grading.NewHub(), grader: g, sweep: sweep,
		registry: registry, logger: logger})
	if err != nil {
		return err
	}
	defer queue.close()
	srv, err := server.New(server.Config{Store: st, Course: source, Grader: g, Pool: queue.dispatcher, QueueCap: m.QueueCap, Logger: logger,
		SignupOpen: m.Signup == "open", Watch: m.Watch, SecureCookies: m.SecureCookies,
		TrustedProxies: m.TrustedProxies, MetricsToken: m.MetricsToken, Registry: registry, PublicURL: m.PublicURL,
		OIDC: m.oidcConfig(), NoPasswordLogin: !m.PasswordLogin && m.OIDCIssuer != ""})
	if err != nil {
		return err
	}

	poolCtx, stopPool := context.WithCancel(context.WithoutCancel(ctx))
	poolDone := make(chan struct{})
	go func() { queue.run(poolCtx); close(poolDone) }()
	if err := queue.waitReady(ctx, 10*time.Second); err != nil {
		logger.Warn("answers wait until a grader node is heard from", slog.Any("err", err))
	}

	httpSrv := srv.HTTPServer(m.Addr)
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(server.WrapListener(ln)) }()
	logger.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("db", m.DB),
		slog.String("course", source.Course().Title), slog.Int("workers", m.Workers), slog.Bool("local_grading", !m.NoLocalGrading),
		slog.Duration("startup", time.Since(start)))
	if opsLn != nil {
		ops := &http.Server{Handler: srv.OpsHandler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
		go func() { _ = ops.Serve(opsLn) }()
		defer ops.Close()
		logger.Info("serving metrics", slog.String("addr", opsLn.Addr().String()))
	}
	if err := m.logSetupLink(ctx, st, ln.Addr().String(), logger); err != nil {
		logger.Error("make the setup link", slog.Any("err", err))
	}
	if m.Ready != nil {
		m.Ready <- ln.Addr().String()
	}

	go sweepSessions(poolCtx, st, logger)
	if m.BackupEvery > 0 {
		dir := m.BackupDir
		if dir == "" {
			dir = filepath.Join(filepath.Dir(m.DB), "backups")
		}
		keep := m.BackupKeep
		if keep <= 0 {
			keep = 7
		}
		b := &backupSchedule{store: st, dir: dir, keep: keep, interval: m.BackupEvery, logger: logger, now: time.Now}
		go b.run(poolCtx)
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopPool()
		<-poolDone
		return fmt.Errorf("serve: %w", err)
	}

	logger.Info("shutting down")
	deadline := time.Now().Add(ShutdownLimit - 2*time.Second)
	shutCtx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	// The pool stops taking jobs and gives running gradings its grace
	// period while the HTTP server drains.
	stopPool()
	srv.Close()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		logger.Warn("requests still open at shutdown were cut", slog.Any("err", err))
		httpSrv.Close()
	}
	select {
	case <-poolDone:
	case <-shutCtx.Done():
		logger.Warn("gradings did not stop in time")
	}
	stopWatch()
	logger.Info("stopped")
	return nil
}

func (m *Main) loadCourse(ctx context.Context, logger *slog.Logger) (server.CourseSource, error) {
	if m.Course == "" {
		c, err := content.Load(builtin.FS(), courseKinds())
		if err != nil {
			return nil, fmt.Errorf("the built-in course does not load: %w", err)
		}
		return server.StaticCourse{C: c}, nil
	}
	if m.Watch {
		w, err := content.Watch(ctx, m.Course, logger, courseKinds())
		if err != nil {
			return nil, fmt.Errorf("course %s: %w", m.Course, err)
		}
		return w, nil
	}
	c, err := content.Load(os.DirFS(m.Course), courseKinds())
	if err != nil {
		return nil, fmt.Errorf("course %s: %w", m.Course, err)
	}
	return server.StaticCourse{C: c}, nil
}

// sweepSessions deletes expired and idle sessions every hour.
func sweepSessions(ctx context.Context, st *store.Store, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := st.DeleteExpiredSessions(ctx, server.DefaultSessionIdle); err != nil && ctx.Err() == nil {
				logger.Warn("delete expired sessions", slog.Any("err", err))
			}
		}
	}
}
