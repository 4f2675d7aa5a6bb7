package apiworker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestWorkerStartsChecksSecretAndDrains(t *testing.T) {
	sum := sha256.Sum256([]byte("s3cret"))
	cfg := Config{Port: "0", StartupDelay: 300 * time.Millisecond, WorkingSetMB: 8, ExpectPassword: hex.EncodeToString(sum[:]), MaxWork: time.Minute}
	w := New(cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), "s3cret")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Serve(ctx, ln) }()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 503 {
		t.Errorf("healthz during start-up: %d, want 503", code)
	}
	time.Sleep(500 * time.Millisecond)
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz after start-up: %d, want 200", code)
	}
	if _, body := get("/secret"); !strings.Contains(body, `"ok"`) {
		t.Errorf("secret: %s", body)
	}
	if code, _ := get("/work?ms=abc"); code != 400 {
		t.Errorf("bad ms: %d", code)
	}
	// A request in flight when the stop begins still completes.
	res := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/work?ms=400")
		if err != nil {
			res <- 0
			return
		}
		resp.Body.Close()
		res <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond)
	stop()
	if code := <-res; code != 200 {
		t.Errorf("in-flight request: %d, want 200", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still accepting after the drain")
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	for _, env := range []map[string]string{
		{"PORT": "http"}, {"STARTUP_DELAY": "ten"}, {"WORKING_SET_MB": "-1"}, {"MAX_WORK": "-1s"},
	} {
		if _, err := ConfigFromEnv(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%v: no error", env)
		}
	}
}
