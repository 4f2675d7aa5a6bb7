package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// coldstart_streams_open counts a page following a grading while it is
// open, and drops back when the verdict ends the stream.
func TestStreamsOpenMetric(t *testing.T) {
	h := newHarness(t, true)
	c := h.client()
	c.signUp("student@example.com")
	block := make(chan struct{})
	h.grader.mu.Lock()
	h.grader.block = block
	h.grader.mu.Unlock()
	resp, out := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "body": {`{"pass": true}`}}, "application/json")
	expect(t, resp, out, 202)
	id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(out)[1]

	open := `coldstart_streams_open{kind="grading"} 1`
	closed := `coldstart_streams_open{kind="grading"} 0`
	waitMetric := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			rec := httptest.NewRecorder()
			h.srv.OpsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			if strings.Contains(rec.Body.String(), want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/metrics never showed %q", want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	done := make(chan []string)
	go func() { done <- readEvents(t, c, "/submissions/"+id+"/events") }()
	waitMetric(open)
	close(block)
	<-done
	waitMetric(closed)
}
