package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	base, stop := startServer(t, &Main{Grader: &slowGrader{}})
	addr := strings.TrimPrefix(base, "http://")
	_, port, _ := net.SplitHostPort(addr)

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer failing.Close()

	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout for 0, stderr otherwise
	}{
		{"Alive", []string{"--addr", addr}, 0, "ok: http://" + addr + "/healthz"},
		{"WildcardHostMeansLoopback", []string{"--addr", ":" + port}, 0, "ok: http://127.0.0.1:" + port},
		{"NotHealthy", []string{"--addr", strings.TrimPrefix(failing.URL, "http://")}, 1, "503 Service Unavailable"},
		{"NoPort", []string{"--addr", "localhost"}, 1, "is not host:port"},
		{"PortZero", []string{"--addr", ":0"}, 1, "has no port"},
		{"StrayArgument", []string{"now"}, 2, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"healthcheck"}, tt.args...)...)
			got := stderr
			if tt.code == 0 {
				got = stdout
			}
			if code != tt.code || !strings.Contains(got, tt.want) {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q, want %q", code, tt.code, stdout, stderr, tt.want)
			}
		})
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "healthcheck", "--addr", addr); code != 1 || !strings.Contains(stderr, "connection refused") {
		t.Fatalf("stopped server: exit %d, stderr %q", code, stderr)
	}
}
