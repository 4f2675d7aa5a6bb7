package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Each request is one JSON line with the request's fields at the top
// level, and the signed-in user's id.
func TestAccessLogLine(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	c.signUp("a@example.com")
	resp, body := c.get("/lessons/grids")
	expect(t, resp, body, 200)
	// The line is written once the page has gone, so it may come a moment
	// after the client has read it.
	var line map[string]any
	for deadline := time.Now().Add(5 * time.Second); line == nil && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, l := range strings.Split(h.logs.String(), "\n") {
			if strings.Contains(l, `"path":"/lessons/grids"`) {
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					t.Fatalf("%v: %s", err, l)
				}
			}
		}
	}
	if line == nil {
		t.Fatalf("no access log line for the lesson:\n%s", h.logs.String())
	}
	want := map[string]any{"level": "INFO", "msg": "request", "method": "GET", "route": "/lessons/:slug", "status": 200.0,
		"ip": "127.0.0.1", "request_id": resp.Header.Get("X-Request-Id"), "bytes": float64(len(body))}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if us, ok := line["us"].(float64); !ok || us < 0 {
		t.Errorf("us = %v, want the microseconds the request took", line["us"])
	}
	if id, ok := line["user"].(float64); !ok || id < 1 {
		t.Errorf("user = %v, want the signed-in user's id", line["user"])
	}
	if _, ok := line["time"].(string); !ok {
		t.Errorf("no time in %v", line)
	}
	if _, ok := line[""]; ok {
		t.Errorf("the fields are nested under an empty key: %v", line)
	}
}
