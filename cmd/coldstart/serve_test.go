package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/server/store"
)

// startServer runs the real server through Main and returns its base URL
// and a function that stops it and returns Run's error.
func startServer(t *testing.T, m *Main) (string, func() error) {
	t.Helper()
	if m.Addr == "" {
		m.Addr = "127.0.0.1:0"
	}
	if m.DB == "" {
		m.DB = filepath.Join(t.TempDir(), "coldstart.db")
	}
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	ready := make(chan string, 1)
	m.Ready = ready
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	select {
	case addr := <-ready:
		stopped := false
		var runErr error
		stop := func() error {
			if !stopped {
				stopped = true
				cancel()
				runErr = <-errc
			}
			return runErr
		}
		t.Cleanup(func() { stop() })
		return "http://" + addr, stop
	case err := <-errc:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start within 30s")
	}
	return "", nil
}

func TestServeFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		ok   bool
	}{
		{"Defaults", nil, nil, true},
		{"FromEnv", nil, map[string]string{"COLDSTART_ADDR": ":9999", "COLDSTART_SIGNUP": "closed"}, true},
		{"BadSignup", []string{"--signup", "maybe"}, nil, false},
		{"WatchNeedsCourse", []string{"--watch"}, nil, false},
		{"TooLongGrading", []string{"--grading-timeout", "5m"}, nil, false},
		{"Arguments", []string{"extra"}, nil, false},
		{"Proxies", []string{"--trusted-proxies", "10.0.0.0/8, 192.168.1.7,fd00::/8"}, nil, true},
		{"ProxiesFromEnv", nil, map[string]string{"COLDSTART_TRUSTED_PROXIES": "172.16.0.0/12"}, true},
		{"BadProxy", []string{"--trusted-proxies", "10.0.0.0/8,proxy.example"}, nil, false},
		{"BadProxyRange", []string{"--trusted-proxies", "10.0.0.0/33"}, nil, false},
		{"Backups", []string{"--backup-every", "6h", "--backup-dir", "/tmp/b", "--backup-keep", "3"}, nil, true},
		{"BackupsTooOften", []string{"--backup-every", "10s"}, nil, false},
		{"BackupsNegative", []string{"--backup-every", "-1h"}, nil, false},
		{"BackupKeepZero", []string{"--backup-every", "1h", "--backup-keep", "0"}, nil, false},
		{"PublicURL", []string{"--public-url", "https://course.example.com/"}, nil, true},
		{"PublicURLFromEnv", nil, map[string]string{"COLDSTART_PUBLIC_URL": "http://10.0.0.5:8080"}, true},
		{"BadPublicURL", []string{"--public-url", "course.example.com"}, nil, false},
		{"OIDC", []string{"--oidc-issuer", "https://login.example.com", "--oidc-client-id", "coldstart", "--public-url", "https://course.example.com",
			"--oidc-allowed-domains", "example.com, corp.example.com", "--password-login=false"}, map[string]string{"COLDSTART_OIDC_CLIENT_SECRET": "s3cret"}, true},
		{"OIDCNeedsPublicURL", []string{"--oidc-issuer", "https://login.example.com", "--oidc-client-id", "coldstart", "--oidc-client-secret", "x"}, nil, false},
		{"OIDCNeedsSecret", []string{"--oidc-issuer", "https://login.example.com", "--oidc-client-id", "coldstart", "--public-url", "https://c.example.com"}, nil, false},
		{"OIDCBadIssuer", []string{"--oidc-issuer", "login.example.com", "--oidc-client-id", "c", "--oidc-client-secret", "x", "--public-url", "https://c.example.com"}, nil, false},
		{"OIDCBadDomain", []string{"--oidc-issuer", "https://l.example.com", "--oidc-client-id", "c", "--oidc-client-secret", "x", "--public-url", "https://c.example.com", "--oidc-allowed-domains", "@example.com"}, nil, false},
		{"NoPasswordsNoSSO", []string{"--password-login=false"}, nil, false},
		{"ClientIDWithoutIssuer", []string{"--oidc-client-id", "c"}, nil, false},
		{"BadBackupEnv", nil, map[string]string{"COLDSTART_BACKUP_EVERY": "daily"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			m := &Main{}
			err := m.ParseFlags(tt.args, io.Discard)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if tt.name == "Defaults" && (m.Addr != "127.0.0.1:8080" || m.DB != "coldstart.db" || m.Signup != "open") {
				t.Fatalf("defaults: %+v", m)
			}
			if tt.name == "Defaults" && len(m.TrustedProxies) != 0 {
				t.Fatalf("proxies trusted by default: %q", m.TrustedProxies)
			}
			if tt.name == "Proxies" && strings.Join(m.TrustedProxies, " ") != "10.0.0.0/8 192.168.1.7 fd00::/8" {
				t.Fatalf("proxies: %q", m.TrustedProxies)
			}
			if tt.name == "ProxiesFromEnv" && strings.Join(m.TrustedProxies, " ") != "172.16.0.0/12" {
				t.Fatalf("proxies from env: %q", m.TrustedProxies)
			}
			if tt.name == "FromEnv" && (m.Addr != ":9999" || m.Signup != "closed") {
				t.Fatalf("env: %+v", m)
			}
		})
	}
}

// slowGrader takes long enough that shutdown finds it running.
type slowGrader struct{ started chan struct{} }

func (g *slowGrader) Grade(ctx context.Context, req grader.Request) *grader.Result {
	close(g.started)
	<-ctx.Done()
	return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusError, Reason: "interrupted"}
}
func (g *slowGrader) Variant(grader.Spec, int64) (*grader.Variant, error) { return nil, nil }
func (g *slowGrader) Ready(context.Context) error                         { return nil }
func (g *slowGrader) Form(grader.Spec) (*grader.Form, error)              { return nil, nil }

// A grading still running at shutdown goes back to the queue, and the
// server stops within the limit.
func TestServeShutsDownAndRequeues(t *testing.T) {
	db := filepath.Join(t.TempDir(), "coldstart.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := st.CreateUser(context.Background(), "a@example.com", []byte("x"))
	sub, _ := st.CreateSubmission(context.Background(), u.ID, "serverless-criteria", 1, []byte("{}"))
	st.Close()

	g := &slowGrader{started: make(chan struct{})}
	base, stop := startServer(t, &Main{DB: db, Grader: g, Workers: 1, Grace: time.Second})
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case <-g.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the queued job was not picked up")
	}
	begin := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(begin); took > ShutdownLimit {
		t.Fatalf("shutdown took %s", took)
	}
	st, _ = store.Open(context.Background(), db)
	defer st.Close()
	got, _ := st.Submission(context.Background(), sub.ID)
	if got.Status != store.JobQueued {
		t.Fatalf("interrupted job is %s, want queued again", got.Status)
	}
	if _, err := http.Get(base + "/healthz"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("server still answers after shutdown: %v", err)
	}
}

func TestServeMetricsListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opsAddr := ln.Addr().String()
	ln.Close()
	base, _ := startServer(t, &Main{Grader: &slowGrader{started: make(chan struct{})}, Workers: 1, MetricsAddr: opsAddr})
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get(base + "/healthz")
	if code, body := get("http://" + opsAddr + "/metrics"); code != 200 || !strings.Contains(body, "coldstart_http_requests_total") {
		t.Fatalf("metrics listener /metrics: %d %.200s", code, body)
	}
	if code, body := get("http://" + opsAddr + "/readyz"); code != 200 || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("metrics listener /readyz: %d %s", code, body)
	}
	if code, _ := get(base + "/metrics"); code != 404 {
		t.Fatalf("main listener /metrics: %d, want 404", code)
	}
	if code, body := get(base + "/readyz"); code != 200 || body != "{\"status\":\"ready\"}\n" {
		t.Fatalf("main listener /readyz: %d %q", code, body)
	}
}
