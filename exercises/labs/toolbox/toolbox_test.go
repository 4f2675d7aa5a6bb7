package toolbox

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestShellRunsHealthCheckCommands(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok"))
		case "/slow":
			time.Sleep(2 * time.Second)
		default:
			http.Error(w, "nope", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	base := srv.URL
	// A port nothing listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name     string
		script   string
		code     int
		stdout   string
		stderrIn string
	}{
		{"curl ok", "curl -fsS " + base + "/healthz", 0, "ok", ""},
		{"curl fail on 503", "curl -f -s " + base + "/down", 22, "", ""},
		{"curl shows error", "curl -fsS " + base + "/down", 22, "", "returned error: 503"},
		{"curl without -f succeeds on 503", "curl -s -o /dev/null " + base + "/down", 0, "", ""},
		{"curl refused", "curl -fsS " + closed + "/healthz", 7, "", "Connection refused"},
		{"curl max-time", "curl -fsS --max-time 0.2 " + base + "/slow", 28, "", "timed out"},
		{"curl or exit 1", "curl -f " + base + "/down || exit 1", 1, "", ""},
		{"wget ok", "wget -q -O- " + base + "/healthz", 0, "ok", ""},
		{"wget spider", "wget -q --spider " + base + "/healthz", 0, "", ""},
		{"wget 503", "wget -q -O- " + base + "/down", 8, "", "503"},
		{"wget refused", "wget -q -O - -T 1 " + closed + "/healthz", 4, "", "can't connect"},
		{"wget timeout", "wget -q -O- -T 0.2 " + base + "/slow", 4, "", "timed out"},
		{"unknown command", "nc -z localhost 8080", 127, "", "nc: command not found"},
		{"absolute path", "/bin/curl -fs " + base + "/healthz", 0, "ok", ""},
		{"curl unknown flag", "curl --compressed " + base, 2, "", "unknown"},
		{"syntax error", "curl (", 2, "", ""},
		{"builtins", "test 1 -eq 1 && echo yes", 0, "yes\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runShell(context.Background(), []string{"-c", tt.script}, strings.NewReader(""), &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			if tt.stdout != "" && out.String() != tt.stdout {
				t.Errorf("stdout %q, want %q", out.String(), tt.stdout)
			}
			if !strings.Contains(errb.String(), tt.stderrIn) {
				t.Errorf("stderr %q, want it to contain %q", errb.String(), tt.stderrIn)
			}
		})
	}
}
