package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"coldstart/server/store"
)

// A visitor's lesson page is the same bytes every time, with an ETag that
// turns a repeat into a 304; a signed-in reader's page is never cached.
func TestVisitorLessonPageETag(t *testing.T) {
	h := newHarness(t, false)
	get := func(c *http.Client, etag string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", h.ts.URL+"/lessons/grids", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	first, body1 := get(http.DefaultClient, "")
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || etag == "" || first.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("visitor page: %d, ETag %q, Cache-Control %q", first.StatusCode, etag, first.Header.Get("Cache-Control"))
	}
	second, body2 := get(http.DefaultClient, "")
	if second.Header.Get("ETag") != etag || body1 != body2 {
		t.Fatal("two visitors got different pages")
	}
	again, body := get(http.DefaultClient, etag)
	if again.StatusCode != http.StatusNotModified || body != "" {
		t.Fatalf("revalidation: %d with %d bytes, want 304 and none", again.StatusCode, len(body))
	}
	if stale, _ := get(http.DefaultClient, `"other"`); stale.StatusCode != 200 {
		t.Fatalf("another ETag: %d", stale.StatusCode)
	}
	checkSecurityHeaders(t, again, false)

	c := h.signedIn("reader@example.com", store.RoleStudent)
	resp, page := c.get("/lessons/grids")
	if resp.Header.Get("ETag") != "" || resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(page, "reader@example.com") {
		t.Fatalf("signed-in page: ETag %q, Cache-Control %q", resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
	}
}
