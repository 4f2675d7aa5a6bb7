package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

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

// signInFrom signs in to an account as a client behind the trusted proxy
// at the given address.
func signInFrom(c *client, addr, email, password string) (*http.Response, string) {
	c.h.t.Helper()
	return c.postWith("/signin", url.Values{"csrf": {c.csrf}, "email": {email}, "password": {password}}, http.Header{"X-Forwarded-For": {addr}})
}

func TestFailuresElsewhereNeverLockOutTheOwner(t *testing.T) {
	h := newHarness(t, false, func(c *server.Config) { c.TrustedProxies = []string{"127.0.0.0/8"} })
	owner := h.client()
	owner.signUp("victim@example.com")
	owner.post("/signout", url.Values{"csrf": {owner.csrf}}, "")

	attacker := h.client()
	attacker.get("/signin")
	refused := 0
	for i := range 60 {
		addr := fmt.Sprintf("203.0.113.%d", i%6+1)
		resp, body := signInFrom(attacker, addr, "victim@example.com", fmt.Sprintf("guess %d!", i))
		switch resp.StatusCode {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			refused++
			expect(t, resp, body, 429, "Too many failed sign-ins to this account from your network", "Try again in")
		default:
			t.Fatalf("attempt %d: status %d", i, resp.StatusCode)
		}
	}
	if refused < 60-6*5 {
		t.Fatalf("only %d of 60 guesses from 6 addresses were refused; each address may fail 5 times", refused)
	}
	// The attacker's address may still try other accounts: the limit is
	// on the pair, and the address's own budget is not exhausted.
	resp, body := signInFrom(attacker, "203.0.113.1", "someone@example.com", "guess guess")
	expect(t, resp, body, 401, "not right")

	owner.get("/signin")
	resp, body = signInFrom(owner, "192.0.2.10", "victim@example.com", "correct horse battery")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner, from a clean address, with the right password: %d\n%.500s", resp.StatusCode, body)
	}
}

func TestLiveStreamsPerUserAreBounded(t *testing.T) {
	h := newHarness(t, false) // no workers: the grading stays queued and its stream open
	c := h.client()
	c.signUp("a@example.com")
	resp, out := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "body": {"{}"}}, "application/json")
	expect(t, resp, out, 202)
	id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(out)[1]
	open := func() *http.Response {
		t.Helper()
		resp, err := c.http.Get(h.ts.URL + "/submissions/" + id + "/events")
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var streams []*http.Response
	for range 4 {
		r := open()
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream %d: %d %s", len(streams)+1, r.StatusCode, r.Header.Get("Content-Type"))
		}
		streams = append(streams, r)
	}
	extra := open()
	b, _ := io.ReadAll(extra.Body)
	extra.Body.Close()
	expect(t, extra, string(b), http.StatusTooManyRequests, "Too many live gradings open", "Close some of those pages")

	// Another account is not affected.
	other := h.client()
	other.signUp("b@example.com")
	resp, body := other.get("/progress")
	expect(t, resp, body, 200)

	// Closing one frees its place.
	streams[0].Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := open()
		if r.StatusCode == 200 {
			r.Body.Close()
			break
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's place was never freed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, r := range streams[1:] {
		r.Body.Close()
	}
}
