package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"coldstart/server/store"
)

func TestCertificates(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	u := h.user("grace@example.com", store.RoleStudent)
	setName(t, h, u.ID, "Grace Hopper")
	c := h.client()
	c.signIn("grace@example.com")

	resp, body := c.get("/certificate")
	expect(t, resp, body, 200, "What remains", "/lessons/grids", "/lessons/reading-grids", "/exercises/tiny-grid")
	resp, body = c.post("/certificate", url.Values{"csrf": {c.csrf}}, "")
	expect(t, resp, body, 403, "every lesson completed")

	for _, l := range []string{"grids", "reading-grids"} {
		if err := h.store.SetLessonComplete(ctx, u.ID, l, true); err != nil {
			t.Fatal(err)
		}
	}
	clock := &testClock{}
	h.store.Now = clock.now
	submitAt(t, h.store, clock, u.ID, "tiny-grid", time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC), "fail", 0.5)
	submitAt(t, h.store, clock, u.ID, "tiny-grid", time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC), "pass", 1)
	clock.set(time.Date(2026, 6, 3, 10, 0, 0, 0, time.UTC))

	resp, body = c.get("/certificate")
	expect(t, resp, body, 200, "Get my certificate")
	resp, body = c.post("/certificate", url.Values{"csrf": {c.csrf}}, "")
	expect(t, resp, body, 303)
	where := resp.Header.Get("Location")
	if !strings.HasPrefix(where, "/certificates/") {
		t.Fatalf("issued certificate at %q", where)
	}
	resp, body = c.post("/certificate", url.Values{"csrf": {c.csrf}}, "")
	if resp.Header.Get("Location") != where {
		t.Fatalf("a second certificate at %q, want the first at %q", resp.Header.Get("Location"), where)
	}
	resp, body = c.get("/certificate")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != where {
		t.Fatalf("/certificate after issuing: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Anyone can verify it, signed in or not.
	resp, body = h.client().get(where)
	expect(t, resp, body, 200, "Certificate of completion", "Grace Hopper", "A tiny course", "3 June 2026", "Fill in a tiny grid", "100%", "Verify at", where)
	resp, body = h.client().get("/certificates/forged-code")
	expect(t, resp, body, 404, "No certificate has this code")
	resp, body = h.client().get("/certificates/" + strings.Repeat("x", 100))
	expect(t, resp, body, 404)
}
