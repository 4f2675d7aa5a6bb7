package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"coldstart/server"
)

// bruteForce tries wrong passwords for ever new accounts, each from a new
// claimed address, and returns how many attempts were answered before the
// first refusal for too many attempts (or n if none was refused).
func bruteForce(c *client, n int) int {
	c.h.t.Helper()
	c.get("/signin")
	for i := range n {
		hdr := http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i+1)}, "X-Real-Ip": {fmt.Sprintf("198.51.100.%d", i+1)}}
		resp, _ := c.postWith("/signin", url.Values{"csrf": {c.csrf}, "email": {fmt.Sprintf("user%d@example.com", i)}, "password": {"guess guess"}}, hdr)
		if resp.StatusCode == http.StatusTooManyRequests {
			return i
		}
	}
	return n
}

func TestForwardedForIsNotTrustedByDefault(t *testing.T) {
	h := newHarness(t, false)
	if n := bruteForce(h.client(), 40); n == 40 {
		t.Fatal("40 failed sign-ins with a rotating X-Forwarded-For were never limited")
	}
	if strings.Contains(h.logs.String(), "203.0.113.") || strings.Contains(h.logs.String(), "198.51.100.") {
		t.Fatal("the log records an address the client claimed")
	}
	if !strings.Contains(h.logs.String(), `"ip":"127.0.0.1"`) {
		t.Fatal("the log does not record the peer address")
	}
}

func TestForwardedForFromTrustedProxy(t *testing.T) {
	h := newHarness(t, false, func(c *server.Config) { c.TrustedProxies = []string{"127.0.0.0/8"} })
	if n := bruteForce(h.client(), 40); n != 40 {
		t.Fatalf("clients behind a trusted proxy share one limit: refused after %d attempts from 40 addresses", n)
	}
	if !strings.Contains(h.logs.String(), `"ip":"203.0.113.7"`) {
		t.Fatal("the log does not record the address the trusted proxy forwarded")
	}
}

func TestBadTrustedProxy(t *testing.T) {
	h := newHarness(t, false)
	_, err := server.New(server.Config{Store: h.store, Course: server.StaticCourse{C: loadMinimal(t)}, Grader: h.grader, TrustedProxies: []string{"not-an-address"}})
	if err == nil || !strings.Contains(err.Error(), "trusted proxies") {
		t.Fatalf("err = %v", err)
	}
}
