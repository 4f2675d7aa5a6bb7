package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"coldstart/server"
	"coldstart/server/store"
)

func getWith(t *testing.T, url, authz string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestOperationsEndpoints(t *testing.T) {
	const token = "metrics-token-for-tests"
	h := newHarness(t, false, func(c *server.Config) { c.MetricsToken = token })
	visitor := h.client()
	visitor.get("/lessons/grids")

	t.Run("ReadyzPublicIsJustTheStatus", func(t *testing.T) {
		resp, body := getWith(t, h.ts.URL+"/readyz", "")
		expect(t, resp, body, 200, `{"status":"ready"}`)
		if strings.Contains(body, "database") || strings.Contains(body, "grader") {
			t.Fatalf("public /readyz shows details: %s", body)
		}
	})
	t.Run("ReadyzDetailsWithToken", func(t *testing.T) {
		resp, body := getWith(t, h.ts.URL+"/readyz", "Bearer "+token)
		expect(t, resp, body, 200, `"database":"ok"`, `"course":"ok"`)
	})
	t.Run("ReadyzDetailsForAdmins", func(t *testing.T) {
		admin := h.signedIn("admin@example.com", store.RoleAdmin)
		resp, body := admin.get("/readyz")
		expect(t, resp, body, 200, `"database":"ok"`)
		student := h.client()
		student.signUp("student@example.com")
		resp, body = student.get("/readyz")
		expect(t, resp, body, 200, `{"status":"ready"}`)
	})
	t.Run("MetricsNeedTheToken", func(t *testing.T) {
		resp, body := getWith(t, h.ts.URL+"/metrics", "")
		expect(t, resp, body, 401, "metrics token")
		resp, body = getWith(t, h.ts.URL+"/metrics", "Bearer wrong-token")
		expect(t, resp, body, 401)
		resp, body = getWith(t, h.ts.URL+"/metrics", "Bearer "+token)
		expect(t, resp, body, 200, "coldstart_http_requests_total", `route="/lessons/:slug"`)
	})
	t.Run("OpsListener", func(t *testing.T) {
		ops := httptest.NewServer(h.srv.OpsHandler())
		defer ops.Close()
		resp, body := getWith(t, ops.URL+"/metrics", "")
		expect(t, resp, body, 200, "coldstart_http_requests_total")
		resp, body = getWith(t, ops.URL+"/readyz", "")
		expect(t, resp, body, 200, `"grader":"ok"`)
		resp, body = getWith(t, ops.URL+"/lessons/grids", "")
		expect(t, resp, body, 404)
		resp, body = getWith(t, ops.URL+"/debug/pprof/heap?debug=1", "")
		expect(t, resp, body, 200, "heap profile")
		resp, body = getWith(t, h.ts.URL+"/debug/pprof/heap?debug=1", "")
		expect(t, resp, body, 404)
	})
}
