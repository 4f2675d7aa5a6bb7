package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	h := newHarness(t, false)
	victim := h.client()
	victim.signUp("victim@example.com")
	attacker := h.client()
	attacker.signUp("attacker@example.com")
	attacker.post("/signout", url.Values{"csrf": {attacker.csrf}}, "")

	crossSite := []struct {
		name string
		hdr  http.Header
	}{
		{"SecFetchSite", http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"SameSiteButOtherOrigin", http.Header{"Sec-Fetch-Site": {"same-site"}}},
		{"OriginOnly", http.Header{"Origin": {"https://evil.example"}}},
	}
	for _, tt := range crossSite {
		t.Run("LoginCSRF/"+tt.name, func(t *testing.T) {
			// A page elsewhere signs the victim's browser in to the
			// attacker's account, with a CSRF cookie of its choosing.
			hdr := tt.hdr.Clone()
			hdr.Set("Cookie", "coldstart_csrf=chosen-by-the-attacker-0123456789abcdef")
			resp, body := h.client().postWith("/signin", url.Values{"csrf": {"chosen-by-the-attacker-0123456789abcdef"},
				"email": {"attacker@example.com"}, "password": {"correct horse battery"}}, hdr)
			expect(t, resp, body, http.StatusForbidden, "This form came from another site", "nothing was saved")
			if ck := resp.Header.Get("Set-Cookie"); strings.Contains(ck, "coldstart_session=") && !strings.Contains(ck, "Max-Age=0") {
				t.Fatalf("a cross-site sign-in set a session: %q", ck)
			}
		})
		t.Run("SignedInForm/"+tt.name, func(t *testing.T) {
			resp, body := victim.postWith("/lessons/grids/complete", url.Values{"csrf": {victim.csrf}, "done": {"1"}}, tt.hdr)
			expect(t, resp, body, http.StatusForbidden, "This form came from another site")
		})
	}
	if p, err := h.store.Progress(context.Background(), 1); err != nil || len(p.Lessons) != 0 {
		t.Fatalf("a cross-site form completed lessons: %v %v", p, err)
	}

	t.Run("SameOriginSignInNeedsNoToken", func(t *testing.T) {
		c := h.client()
		resp, body := c.get("/signin")
		expect(t, resp, body, 200)
		if ck := resp.Header.Values("Set-Cookie"); len(ck) != 0 {
			t.Fatalf("an anonymous page set cookies: %q", ck)
		}
		resp, body = c.postWith("/signin", url.Values{"email": {"attacker@example.com"}, "password": {"correct horse battery"}},
			http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {h.ts.URL}})
		expect(t, resp, body, http.StatusSeeOther)
	})
	t.Run("SignedInFormNeedsTheSessionToken", func(t *testing.T) {
		resp, body := victim.post("/lessons/grids/complete", url.Values{"csrf": {"forged"}, "done": {"1"}}, "")
		expect(t, resp, body, http.StatusForbidden, "This form has expired")
	})
}
