package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"coldstart/server"
	"coldstart/server/store"
)

// inlineCode finds what a strict content security policy would block:
// style attributes and elements, event handler attributes, scripts without
// a src (JSON data blocks are not run and are allowed) and javascript: URLs.
var inlineCode = regexp.MustCompile(`(?i)\sstyle=|<style|\son[a-z]+=|<script(?:\s+(?:defer|async))*\s*>|<script\s+type="(?:text/javascript|module)"[^>]*>\s*\S|javascript:`)

func checkSecurityHeaders(t *testing.T, resp *http.Response, hsts bool) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy allows inline code: %q", csp)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := resp.Header.Get("Strict-Transport-Security"); (got != "") != hsts {
		t.Errorf("Strict-Transport-Security = %q, want it set: %v", got, hsts)
	}
}

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "PlainCookies", true: "SecureCookies"}[secure], func(t *testing.T) {
			h := newHarness(t, true, func(c *server.Config) { c.SecureCookies = secure })
			visitor := h.client()
			paths := []string{"/", "/lessons/grids", "/lessons/reading-grids", "/exercises/tiny-grid", "/signin", "/signup",
				"/no/such/page", "/lessons/nope", "/healthz", "/readyz", "/progress"}
			_, home := visitor.get("/")
			css := regexp.MustCompile(`/static/app\.[0-9a-f]{12}\.css`).FindString(home)
			js := regexp.MustCompile(`/static/app\.[0-9a-f]{12}\.js`).FindString(home)
			paths = append(paths, css, js)
			for _, p := range paths {
				resp, body := visitor.get(p)
				checkSecurityHeaders(t, resp, secure)
				if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && inlineCode.MatchString(body) {
					t.Errorf("%s has inline code: %q", p, inlineCode.FindString(body))
				}
			}
			if secure {
				return // the test server speaks plain HTTP: Secure cookies are not sent back
			}
			c := h.signedIn("admin@example.com", store.RoleAdmin)
			resp, out := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "body": {"pass"}}, "application/json")
			checkSecurityHeaders(t, resp, secure)
			id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(out)
			if id == nil {
				t.Fatalf("submit: %d %s", resp.StatusCode, out)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, body := c.get("/submissions/" + id[1])
				if strings.Contains(body, `"status":"done"`) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			signedIn := []string{"/", "/lessons/grids", "/lessons/reading-grids", "/exercises/tiny-grid", "/progress", "/cohort", "/account", "/admin/users",
				"/submissions/" + id[1], "/submissions/" + id[1] + "/result", "/signin"}
			for _, p := range signedIn {
				resp, body := c.get(p)
				checkSecurityHeaders(t, resp, secure)
				if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && inlineCode.MatchString(body) {
					t.Errorf("%s (signed in) has inline code: %q", p, inlineCode.FindString(body))
				}
				if p == "/progress" && !strings.Contains(body, `class="bar"`) {
					t.Errorf("the progress page shows no bar")
				}
			}
		})
	}
}
