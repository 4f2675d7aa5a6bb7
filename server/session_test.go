package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"coldstart/server"
)

// clock is a time tests move by hand, shared by the server and the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func sessionCookieOf(t *testing.T, c *client) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(c.h.ts.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "coldstart_session" {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestSignInStartsANewSession(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	c.signUp("a@example.com")
	old := sessionCookieOf(t, c)

	resp, body := c.post("/signin", url.Values{"csrf": {c.csrf}, "email": {"a@example.com"}, "password": {"correct horse battery"}}, "")
	expect(t, resp, body, http.StatusSeeOther)
	if sessionCookieOf(t, c).Value == old.Value {
		t.Fatal("signing in kept the old session token")
	}
	resp, body = c.get("/progress")
	expect(t, resp, body, 200, "My progress")

	// The old token no longer signs anyone in.
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/progress", nil)
	req.AddCookie(old)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the session before sign-in still works: %d", resp.StatusCode)
	}
}

func TestIdleSessionEnds(t *testing.T) {
	clk := &clock{now: time.Now()}
	h := newHarness(t, false, func(c *server.Config) { c.Now = clk.Now; c.SessionIdle = time.Hour })
	h.store.Now = clk.Now
	c := h.client()
	c.signUp("a@example.com")
	for _, d := range []time.Duration{30 * time.Minute, 50 * time.Minute, 55 * time.Minute} {
		clk.advance(d)
		resp, body := c.get("/progress")
		expect(t, resp, body, 200, "My progress") // each use restarts the idle time
	}
	clk.advance(61 * time.Minute)
	resp, _ := c.get("/progress")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "expired=1") {
		t.Fatalf("after an idle hour: %d to %q, want the sign-in page saying the session expired", resp.StatusCode, loc)
	}
}

// rawGet sends a request with exactly the cookie header given.
func rawRequest(t *testing.T, method, url, cookie string, form url.Values) *http.Response {
	t.Helper()
	var req *http.Request
	if form != nil {
		req, _ = http.NewRequest(method, url, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, url, nil)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSecureCookiesUseTheHostPrefix(t *testing.T) {
	h := newHarness(t, false, func(c *server.Config) { c.SecureCookies = true })
	c := h.client()
	c.signUp("a@example.com") // over plain HTTP the jar keeps no Secure cookie
	resp := rawRequest(t, http.MethodPost, h.ts.URL+"/signin", "", url.Values{"email": {"a@example.com"}, "password": {"correct horse battery"}})
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, "coldstart_session") {
			session = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("sign in: %d, cookies %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if session.Name != "__Host-coldstart_session" || !session.Secure || session.Path != "/" || session.Domain != "" || !session.HttpOnly {
		t.Fatalf("session cookie %q", resp.Header.Values("Set-Cookie"))
	}
	if r := rawRequest(t, http.MethodGet, h.ts.URL+"/progress", "__Host-coldstart_session="+session.Value, nil); r.StatusCode != 200 {
		t.Fatalf("with the __Host- cookie: %d", r.StatusCode)
	}
	if r := rawRequest(t, http.MethodGet, h.ts.URL+"/progress", "coldstart_session="+session.Value, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a cookie without the prefix is accepted on a secure server: %d", r.StatusCode)
	}
}
