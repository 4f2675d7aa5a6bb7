package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"coldstart/grader/sandbox"
	"coldstart/grader/sandbox/sandboxtest"
)

// TestSSHEngineCarriesEveryKindOfCall reaches the local engine through an
// sshd of the test's own, as ssh://USER@127.0.0.1:PORT, and uses every kind
// of call a grading makes: requests, an exec whose output is read, and the
// relay, whose exec carries a connection both ways.
func TestSSHEngineCarriesEveryKindOfCall(t *testing.T) {
	srv := sandboxtest.SSHEngine(t)
	sb := sandboxtest.NewOn(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	info, err := sb.Engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Host != srv.URL || info.Version == "" {
		t.Fatalf("engine %+v: want %s and a version", info, srv.URL)
	}
	sc := sb.Scope("ssh-test")
	defer sc.Close(context.WithoutCancel(ctx))
	nw, err := sc.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		t.Fatal(err)
	}
	app, err := sc.Start(ctx, sandbox.ContainerSpec{Name: "app", Cmd: []string{"api-worker"},
		Env: map[string]string{"STARTUP_DELAY": "0s", "WORKING_SET_MB": "1"}, Networks: []string{nw.Name}, MemoryMB: 64})
	if err != nil {
		t.Fatal(err)
	}
	code, out, err := app.Exec(ctx, []string{"/bin/sh", "-c", "echo through ssh; exit 3"})
	if err != nil || code != 3 || !strings.Contains(out, "through ssh") {
		t.Fatalf("exec: exit %d, %q, %v: want exit 3 and its output", code, out, err)
	}
	hc := &http.Client{Transport: sc.Transport(nw), Timeout: 5 * time.Second}
	var status int
	for range 50 {
		res, err := hc.Get("http://app:8080/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if status = res.StatusCode; status == http.StatusOK {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status != http.StatusOK {
		t.Fatalf("GET /healthz through the relay over ssh: status %d, want 200", status)
	}
	if !strings.Contains(srv.Log(), "Accepted publickey") {
		t.Fatalf("sshd logged no session, so the calls did not go through it:\n%s", srv.Log())
	}
}

// TestSSHEngineThatDoesNotAnswer: the reason is ssh's own.
func TestSSHEngineThatDoesNotAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	host := fmt.Sprintf("ssh://nobody@127.0.0.1:%d", port)
	sb, err := sandbox.New(sandbox.Options{Host: host, Instance: "ssh-down"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	err = sb.Ping(context.Background())
	if !errors.Is(err, sandbox.ErrUnavailable) {
		t.Fatalf("ping: %v, want the engine unavailable", err)
	}
	for _, want := range []string{host, "ssh nobody@127.0.0.1", "Connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ping error does not say %q: %v", want, err)
		}
	}
}
