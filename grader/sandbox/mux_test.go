package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"coldstart/exercises/labs/relay"
)

// pipedRelay runs the lab's relay and the grader's client over in-memory
// pipes, as the exec's standard streams would carry them.
func pipedRelay(t *testing.T) *muxClient {
	t.Helper()
	toRelayR, toRelayW := io.Pipe()
	fromRelayR, fromRelayW := io.Pipe()
	go func() {
		_ = relay.Serve(toRelayR, fromRelayW)
		fromRelayW.Close()
	}()
	c := newMuxClient(fromRelayR, toRelayW, func() { toRelayW.Close() }, func() string { return "" })
	t.Cleanup(func() { toRelayW.Close() })
	return c
}

func TestRelayCarriesHTTPAndSaysWhyItCannotConnect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write([]byte(strings.Repeat("x", 1<<20)))
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, len(body))
	}))
	defer srv.Close()
	c := pipedRelay(t)
	dial := func(ctx context.Context, _, addr string) (net.Conn, error) { return c.dial(ctx, addr) }
	hc := &http.Client{Transport: &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 8}, Timeout: 5 * time.Second}

	// Many requests at once, on kept-alive connections and new ones.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Post(srv.URL+fmt.Sprintf("/r%d", i), "text/plain", strings.NewReader(strings.Repeat("y", i*1000)))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if want := fmt.Sprintf("POST /r%d %d", i, i*1000); string(b) != want {
				errs <- fmt.Errorf("got %q, want %q", b, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	resp, err := hc.Get(srv.URL + "/big")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != 1<<20 {
		t.Errorf("a 1 MiB answer arrived as %d bytes", len(b))
	}

	// A port nothing listens on: the dial fails with the relay's reason.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	_, err = c.dial(context.Background(), closed)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("dial to a closed port: %v, want connection refused", err)
	}
	// A read deadline ends a read that gets nothing.
	conn, err := c.dial(context.Background(), strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v", err)
	}
	conn.Close()
	if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

func TestRelayEndsEveryStreamWhenItDies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	toRelayR, toRelayW := io.Pipe()
	fromRelayR, fromRelayW := io.Pipe()
	go func() { _ = relay.Serve(toRelayR, fromRelayW) }()
	c := newMuxClient(fromRelayR, toRelayW, func() {}, func() string { return "killed" })
	conn, err := c.dial(context.Background(), strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fromRelayW.CloseWithError(io.ErrUnexpectedEOF)
	if _, err := conn.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("read on a dead relay: %v", err)
	}
	if c.alive() {
		t.Error("the client still counts a dead relay as alive")
	}
	if _, err := c.dial(context.Background(), "app:80"); err == nil {
		t.Error("dial on a dead relay succeeded")
	}
	toRelayW.Close()
}
