package lbprobe

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"coldstart/exercises/labs/apiworker"
)

func TestParseMatcher(t *testing.T) {
	for _, tc := range []struct {
		in      string
		pass    []int
		fail    []int
		invalid bool
	}{
		{in: "", pass: []int{200}, fail: []int{204, 503}},
		{in: "200,204", pass: []int{200, 204}, fail: []int{201}},
		{in: "200-299", pass: []int{200, 250, 299}, fail: []int{300, 404}},
		{in: "abc", invalid: true},
		{in: "299-200", invalid: true},
		{in: "700", invalid: true},
	} {
		m, err := ParseMatcher(tc.in)
		if tc.invalid {
			if err == nil {
				t.Errorf("%q was accepted", tc.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		for _, c := range tc.pass {
			if !m.Match(c) {
				t.Errorf("%q does not match %d", tc.in, c)
			}
		}
		for _, c := range tc.fail {
			if m.Match(c) {
				t.Errorf("%q matches %d", tc.in, c)
			}
		}
	}
}

func TestConfigFromEnvRejectsBadValues(t *testing.T) {
	env := map[string]string{"HC_INTERVAL": "soon", "HC_HEALTHY": "0", "RATE": "-3", "HC_MATCHER": "ok"}
	_, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("bad settings were accepted")
	}
	for _, want := range []string{"HC_INTERVAL", "HC_HEALTHY", "RATE", "HC_MATCHER"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
}

// worker starts a real api-worker on loopback and returns its address.
func worker(t *testing.T, ctx context.Context) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := apiworker.New(apiworker.Config{Port: "0", MaxWork: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	go func() { _ = w.Serve(ctx, ln) }()
	return ln.Addr().String()
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDrainingBreaksWhatOutlastsTheDelay plays one deregistration with a
// delay shorter and one longer than the long requests.
func TestDrainingBreaksWhatOutlastsTheDelay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		delay   time.Duration
		wantCut bool
	}{
		{"delay shorter than the long requests", 100 * time.Millisecond, true},
		{"delay longer than the long requests", 900 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg := Config{DeregDelay: tc.delay, Rate: 40,
				Check: HealthCheck{Path: "/healthz", Interval: 50 * time.Millisecond, Timeout: time.Second, Healthy: 2, Unhealthy: 2, Matcher: Matcher{ranges: [][2]int{{200, 200}}}},
				Work:  WorkMix{Short: 10 * time.Millisecond, Long: 400 * time.Millisecond, LongEvery: 3}}
			lb := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			done := make(chan struct{})
			go func() { lb.Run(ctx); close(done) }()
			for _, name := range []string{"a", "b"} {
				if err := lb.Register(name, worker(t, ctx)); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "two healthy targets", func() bool {
				n := 0
				for _, ts := range lb.Status().Targets {
					if ts.State == StateHealthy {
						n++
					}
				}
				return n == 2
			})
			lb.Traffic(true)
			time.Sleep(500 * time.Millisecond)
			if err := lb.Deregister("a"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(tc.delay + 500*time.Millisecond)
			lb.Traffic(false)
			waitFor(t, "the requests in flight", func() bool { return lb.Status().Counts.InFlight == 0 })
			c := lb.Status().Counts
			if c.Sent < 20 || c.OK+c.Failed != c.Sent {
				t.Fatalf("counts do not add up: %+v", c)
			}
			if got := c.Reasons[FailCut] > 0; got != tc.wantCut {
				t.Fatalf("cut requests %v, want %v: %+v", got, tc.wantCut, c)
			}
			if c.Failed != c.Reasons[FailCut] {
				t.Fatalf("requests failed for other reasons: %+v", c)
			}
			cancel()
			<-done
		})
	}
}

func TestNoHealthyTargetFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lb := New(Config{Rate: 50, DeregDelay: time.Second, Check: HealthCheck{Path: "/", Interval: time.Second, Timeout: time.Second, Healthy: 2, Unhealthy: 2},
		Work: WorkMix{Short: time.Millisecond, Long: time.Millisecond, LongEvery: 1}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { lb.Run(ctx); close(done) }()
	lb.Traffic(true)
	waitFor(t, "a few requests", func() bool { return lb.Status().Counts.Sent >= 5 })
	c := lb.Status().Counts
	if c.Failed != c.Sent || c.Reasons[FailNoTarget] != c.Sent || !strings.HasPrefix(c.FirstFailure, FailNoTarget) {
		t.Fatalf("%+v", c)
	}
	cancel()
	<-done
}
