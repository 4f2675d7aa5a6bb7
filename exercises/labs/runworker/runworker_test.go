package runworker_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"coldstart/exercises/labs/runworker"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    runworker.Config
		wantErr string
	}{
		{"Defaults", nil, runworker.Config{Port: "8080", Parallelism: 4, Work: 40 * time.Millisecond}, ""},
		{"AllSet", map[string]string{"PORT": "9000", "PARALLELISM": "2", "WORK_MS": "10", "INIT_MS": "500"},
			runworker.Config{Port: "9000", Parallelism: 2, Work: 10 * time.Millisecond, Init: 500 * time.Millisecond}, ""},
		{"ZeroParallelism", map[string]string{"PARALLELISM": "0"}, runworker.Config{}, "PARALLELISM"},
		{"ShellInPort", map[string]string{"PORT": "8080; rm -rf /"}, runworker.Config{}, "not a port number"},
		{"HugeWork", map[string]string{"WORK_MS": "99999999999999999999"}, runworker.Config{}, "WORK_MS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runworker.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// Eight requests at once against a worker of parallelism 2 and 50 ms of
// work: they are served in four waves, so the last ones waited about 150 ms
// inside the process.
func TestExcessRequestsWaitInsideTheProcess(t *testing.T) {
	port := freePort(t)
	var logs strings.Builder
	var logMu sync.Mutex
	w := runworker.New(runworker.Config{Host: "127.0.0.1", Port: port, Parallelism: 2, Work: 50 * time.Millisecond, Init: 100 * time.Millisecond},
		json.NewEncoder(writerFunc(func(p []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(p) })))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	started := time.Now()
	go func() { done <- w.Run(ctx, 2*time.Second) }()

	base := "http://127.0.0.1:" + port
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Since(started) > 5*time.Second {
			t.Fatalf("worker never listened: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if init := time.Since(started); init < 100*time.Millisecond {
		t.Errorf("listened after %s, before its 100 ms initialisation", init)
	}

	var wg sync.WaitGroup
	queued := make([]int, 8)
	for i := range queued {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(base + "/")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			queued[i], _ = strconv.Atoi(resp.Header.Get("X-Queue-Ms"))
		}()
	}
	wg.Wait()
	longest := 0
	for _, q := range queued {
		longest = max(longest, q)
	}
	if longest < 120 {
		t.Errorf("longest wait inside the process %d ms, want about 150 (queued: %v)", longest, queued)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	logMu.Lock()
	defer logMu.Unlock()
	for _, msg := range []string{`"msg":"initialising"`, `"msg":"listening"`, `"msg":"stopped"`, `"served":8`} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("log lacks %s:\n%s", msg, logs.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
