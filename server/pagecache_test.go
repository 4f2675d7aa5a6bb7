package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// getWithHeaders sends a GET with extra headers and returns the response and body.
func getWithHeaders(t *testing.T, c *client, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.h.ts.URL+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAnonymousLessonPageHasAnETag(t *testing.T) {
	h := newHarness(t, false)
	anon := h.client()
	resp, body := anon.get("/lessons/grids")
	expect(t, resp, body, http.StatusOK, "<h1>Grids</h1>", "Sign up")
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag = %q, want a strong quoted tag", etag)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache (stored, checked again every time)", got)
	}
	if got := resp.Header.Get("Vary"); got != "Cookie" {
		t.Errorf("Vary = %q, want Cookie", got)
	}
	if got := resp.Header.Get("Set-Cookie"); got != "" {
		t.Errorf("an anonymous page sets a cookie: %q", got)
	}
	if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(body)); got != want {
		t.Errorf("Content-Length = %q, body has %s bytes", got, want)
	}
	checkSecurityHeaders(t, resp, false)

	again, body2 := anon.get("/lessons/grids")
	if again.Header.Get("ETag") != etag || body2 != body {
		t.Fatalf("the same anonymous page changed: ETag %q then %q", etag, again.Header.Get("ETag"))
	}
	if other, _ := anon.get("/lessons/reading-grids"); other.Header.Get("ETag") == etag {
		t.Fatalf("two lessons share the ETag %q", etag)
	}

	for _, tc := range []struct {
		name        string
		ifNoneMatch string
		want        int
	}{
		{"SameTag", etag, http.StatusNotModified},
		{"WeakForm", "W/" + etag, http.StatusNotModified},
		{"InAList", `"other", ` + etag, http.StatusNotModified},
		{"Star", "*", http.StatusNotModified},
		{"OtherTag", `"0123456789abcdef"`, http.StatusOK},
		{"Unquoted", strings.Trim(etag, `"`), http.StatusOK},
		{"Garbage", ",, W/ ,\"", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := getWithHeaders(t, anon, "/lessons/grids", map[string]string{"If-None-Match": tc.ifNoneMatch})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if resp.Header.Get("ETag") != etag {
				t.Errorf("ETag = %q, want %q", resp.Header.Get("ETag"), etag)
			}
			checkSecurityHeaders(t, resp, false)
			if tc.want == http.StatusNotModified && body != "" {
				t.Errorf("304 with a body of %d bytes", len(body))
			}
			if tc.want == http.StatusOK && !strings.Contains(body, "<h1>Grids</h1>") {
				t.Errorf("200 without the lesson:\n%.300s", body)
			}
		})
	}
}

func TestSignedInLessonPageIsNeverStored(t *testing.T) {
	h := newHarness(t, false)
	anon := h.client()
	first, _ := anon.get("/lessons/reading-grids")
	etag := first.Header.Get("ETag")

	c := h.client()
	c.signUp("reader@example.com")
	// A browser that kept the anonymous page asks with its tag after
	// signing in: it gets the signed-in page, not a 304.
	resp, body := getWithHeaders(t, c, "/lessons/reading-grids", map[string]string{"If-None-Match": etag})
	expect(t, resp, body, http.StatusOK, "reader@example.com", `value="`+c.csrf+`"`)
	if resp.Header.Get("ETag") != "" {
		t.Errorf("a signed-in page has an ETag: %q", resp.Header.Get("ETag"))
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(body)); got != want {
		t.Errorf("Content-Length = %q, body has %s bytes", got, want)
	}
	if strings.Contains(body, "csxEmailMark") || strings.Contains(body, "csxCsrfMark") || strings.Contains(body, "csxQuizMark") {
		t.Fatalf("a page marker was left in the page")
	}
	checkSecurityHeaders(t, resp, false)

	// Each reader gets their own strings from the same cached page.
	other := h.client()
	other.signUp("second@example.com")
	resp, body = other.get("/lessons/reading-grids")
	expect(t, resp, body, http.StatusOK, "second@example.com", `value="`+other.csrf+`"`)
	if strings.Contains(body, "reader@example.com") || strings.Contains(body, c.csrf) {
		t.Fatalf("one reader's email or token reached another reader's page")
	}

	// Answers show up in the page's quiz state for their reader only.
	resp, body = c.post("/quiz/reading-grids/zero", url.Values{"csrf": {c.csrf}, "choice": {"0"}}, "application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("answer quiz: %d %s", resp.StatusCode, body)
	}
	_, mine := c.get("/lessons/reading-grids")
	_, theirs := other.get("/lessons/reading-grids")
	if !strings.Contains(mine, `"reading-grids/zero"`) || strings.Contains(theirs, `"reading-grids/zero":`) {
		t.Fatalf("quiz state: mine has it %v, theirs has it %v", strings.Contains(mine, `"reading-grids/zero"`), strings.Contains(theirs, `"reading-grids/zero":`))
	}
}
