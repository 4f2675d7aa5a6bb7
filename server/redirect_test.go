package server_test

import (
	"net/url"
	"testing"
)

func TestNextRedirect(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	c.signUp("a@example.com")
	tests := []struct {
		next, want string
	}{
		{"/", "/"},
		{"/lessons/grids", "/lessons/grids"},
		{"/lessons/grids?tab=quiz#q1", "/lessons/grids?tab=quiz#q1"},
		{"/exercises/tiny-grid", "/exercises/tiny-grid"},
		{"/a/b%20c", "/a/b%20c"},
		{"", "/"},
		{"//evil.example/", "/"},
		{"///evil.example/", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/lessons\\..\\x", "/"},
		{"/%2F/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%09/evil.example", "/"},
		{"https://evil.example/", "/"},
		{"http:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{" /lessons", "/"},
		{"/lessons\x00", "/"},
		{"/lessons\x7f", "/"},
		{"/" + string(make([]byte, 600)), "/"},
	}
	for _, tt := range tests {
		t.Run(url.QueryEscape(tt.next), func(t *testing.T) {
			resp, _ := c.get("/signin?next=" + url.QueryEscape(tt.next))
			if resp.StatusCode != 303 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Location"); got != tt.want {
				t.Fatalf("next=%q redirects to %q, want %q", tt.next, got, tt.want)
			}
		})
	}
}
