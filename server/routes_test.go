package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/server/store"
)

// Every route the server registers, and the status each role gets for it.
// A route missing from this table fails the test.
func TestRoutesAndRoles(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	clients := map[string]*client{
		"student":    h.signedIn("student@example.com", store.RoleStudent),
		"instructor": h.signedIn("teacher@example.com", store.RoleInstructor),
		"admin":      h.signedIn("admin@example.com", store.RoleAdmin),
		"anonymous":  h.client(),
	}
	target := h.user("target@example.com", store.RoleStudent)
	sub, err := h.store.CreateSubmission(ctx, target.ID, "tiny-grid", 1, []byte(`{"cells":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Graded, so that its event stream ends at once.
	if job, err := h.store.ClaimJob(ctx); err != nil || job.ID != sub.ID {
		t.Fatalf("claim: %v", err)
	}
	if err := h.store.FinishJob(ctx, sub.ID, store.Outcome{Verdict: "fail", Score: 0.5, Counted: true, Result: []byte(`{"status":"fail","checks":[]}`)}); err != nil {
		t.Fatal(err)
	}
	g, err := h.store.CreateGroup(ctx, store.Actor{}, "Routes", "routesjoin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	id, subID, gid := itoa(target.ID), itoa(sub.ID), itoa(g.ID)

	const (
		anon = iota
		student
		instructor
		admin
	)
	roles := []string{"anonymous", "student", "instructor", "admin"}
	// want[i] is the status for roles[i]. 303 for anonymous GETs is the
	// redirect to the sign-in page; 401 for anonymous POSTs.
	type row struct {
		method, route, path string
		form                url.Values
		want                [4]int
	}
	teacherGet := [4]int{303, 403, 200, 200}
	adminGet := [4]int{303, 403, 403, 200}
	rows := []row{
		{"GET", "/healthz", "/healthz", nil, [4]int{200, 200, 200, 200}},
		{"GET", "/readyz", "/readyz", nil, [4]int{200, 200, 200, 200}},
		{"GET", "/metrics", "/metrics", nil, [4]int{404, 404, 404, 404}},
		{"GET", "/static/:name", "/static/app.0.css", nil, [4]int{404, 404, 404, 404}},
		{"HEAD", "/static/:name", "/static/app.0.css", nil, [4]int{404, 404, 404, 404}},
		{"GET", "/", "/", nil, [4]int{200, 200, 200, 200}},
		{"GET", "/lessons/:slug", "/lessons/grids", nil, [4]int{200, 200, 200, 200}},
		{"POST", "/lessons/:slug/complete", "/lessons/grids/complete", url.Values{"done": {"1"}}, [4]int{401, 303, 303, 303}},
		{"POST", "/quiz/*id", "/quiz/reading-grids/zero", url.Values{"choice": {"0"}}, [4]int{200, 200, 200, 200}},
		{"GET", "/exercises/:id", "/exercises/tiny-grid", nil, [4]int{200, 200, 200, 200}},
		{"POST", "/exercises/:id/submit", "/exercises/nope/submit", nil, [4]int{401, 404, 404, 404}},
		{"GET", "/submissions/:id/events", "/submissions/" + subID + "/events", nil, [4]int{303, 404, 200, 200}},
		{"GET", "/submissions/:id/result", "/submissions/" + subID + "/result", nil, [4]int{303, 404, 200, 200}},
		{"GET", "/submissions/:id", "/submissions/" + subID, nil, [4]int{303, 404, 200, 200}},
		{"GET", "/progress", "/progress", nil, [4]int{303, 200, 200, 200}},
		{"GET", "/cohort", "/cohort", nil, teacherGet},
		{"POST", "/cohort/role", "/cohort/role", url.Values{"user": {id}, "role": {"student"}}, [4]int{401, 403, 403, 303}},
		{"GET", "/events/reload", "/events/reload", nil, [4]int{404, 404, 404, 404}},
		{"GET", "/signin", "/signin", nil, [4]int{200, 303, 303, 303}},
		{"POST", "/signin", "/signin", url.Values{"email": {"x@example.com"}, "password": {"wrong password"}}, [4]int{401, 401, 401, 401}},
		{"GET", "/signup", "/signup", nil, [4]int{200, 303, 303, 303}},
		{"POST", "/signup", "/signup", url.Values{"email": {"bad"}, "password": {"long enough"}}, [4]int{400, 400, 400, 400}},
		{"POST", "/signout", "/signout", nil, [4]int{303, -1, -1, -1}}, // signed-in roles: not run, it would end their session

		{"GET", "/account", "/account", nil, [4]int{303, 200, 200, 200}},
		{"POST", "/account/password", "/account/password", url.Values{"current": {"wrong"}}, [4]int{401, 401, 401, 401}},
		{"GET", "/invite/:token", "/invite/unknowntoken", nil, [4]int{410, 410, 410, 410}},
		{"POST", "/invite/:token", "/invite/unknowntoken", nil, [4]int{410, 410, 410, 410}},
		{"GET", "/reset/:token", "/reset/unknowntoken", nil, [4]int{410, 410, 410, 410}},
		{"POST", "/reset/:token", "/reset/unknowntoken", nil, [4]int{410, 410, 410, 410}},
		{"GET", "/setup/:token", "/setup/unknowntoken", nil, [4]int{410, 410, 410, 410}},
		{"POST", "/setup/:token", "/setup/unknowntoken", nil, [4]int{410, 410, 410, 410}},
		{"GET", "/certificate", "/certificate", nil, [4]int{303, 200, 200, 200}},
		{"POST", "/certificate", "/certificate", nil, [4]int{401, 403, 403, 403}}, // nobody here has completed the course
		{"GET", "/certificates/:code", "/certificates/unknowncode", nil, [4]int{404, 404, 404, 404}},
		{"GET", "/auth/oidc/login", "/auth/oidc/login", nil, [4]int{404, 404, 404, 404}}, // this server has no single sign-on
		{"GET", "/auth/oidc/callback", "/auth/oidc/callback", nil, [4]int{404, 404, 404, 404}},
		{"GET", "/admin/users", "/admin/users", nil, adminGet},
		{"POST", "/admin/users", "/admin/users", url.Values{"email": {""}}, [4]int{401, 403, 403, 400}},
		{"POST", "/admin/users/:id/deactivate", "/admin/users/" + id + "/deactivate", nil, [4]int{401, 403, 403, 303}},
		{"POST", "/admin/users/:id/reactivate", "/admin/users/" + id + "/reactivate", nil, [4]int{401, 403, 403, 303}},
		{"POST", "/admin/users/:id/reset-link", "/admin/users/" + id + "/reset-link", nil, [4]int{401, 403, 403, 200}},
		{"GET", "/admin/audit", "/admin/audit", nil, adminGet},
		{"GET", "/admin/audit.csv", "/admin/audit.csv", nil, adminGet},
		{"GET", "/admin/grading", "/admin/grading", nil, adminGet},
		{"GET", "/cohort/gradebook.csv", "/cohort/gradebook.csv", nil, teacherGet},
		{"GET", "/cohort/gradebook.json", "/cohort/gradebook.json", nil, [4]int{401, 403, 200, 200}},
		{"GET", "/cohort/groups", "/cohort/groups", nil, teacherGet},
		{"POST", "/cohort/groups", "/cohort/groups", url.Values{"name": {""}}, [4]int{401, 403, 400, 400}},
		{"GET", "/cohort/groups/:id", "/cohort/groups/" + gid, nil, teacherGet},
		{"POST", "/cohort/groups/:id/deadlines", "/cohort/groups/" + gid + "/deadlines", url.Values{"due.tiny-grid": {"2026-05-01"}}, [4]int{401, 403, 303, 303}},
		{"POST", "/cohort/groups/:id/extensions", "/cohort/groups/" + gid + "/extensions", url.Values{"user": {"x"}}, [4]int{401, 403, 400, 400}},
		{"GET", "/cohort/students/:id", "/cohort/students/" + id, nil, teacherGet},
		{"GET", "/cohort/attempts/:id", "/cohort/attempts/" + subID, nil, teacherGet},
		{"GET", "/cohort/analytics", "/cohort/analytics", nil, teacherGet},
		{"GET", "/join/:token", "/join/routesjoin", nil, [4]int{303, 200, 200, 200}},
		{"POST", "/join/:token", "/join/routesjoin", nil, [4]int{401, 303, 303, 303}},
		{"POST", "/account/sign-out-everywhere", "/account/sign-out-everywhere", nil, [4]int{401, 303, 303, 303}}, // last: it ends the sessions
	}
	_ = anon
	_ = student
	_ = instructor
	_ = admin

	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.method+" "+r.route] = true
	}
	for _, ri := range h.srv.Handler().(*gin.Engine).Routes() {
		if !covered[ri.Method+" "+ri.Path] {
			t.Errorf("route %s %s is not in the route-and-role table", ri.Method, ri.Path)
		}
	}

	for _, r := range rows {
		for i, role := range roles {
			if r.want[i] < 0 {
				continue
			}
			t.Run(r.method+" "+r.route+" as "+role, func(t *testing.T) {
				c := clients[role]
				var resp *http.Response
				var body string
				switch {
				case r.method == "GET" && strings.HasSuffix(r.path, ".json"):
					req, _ := http.NewRequest("GET", h.ts.URL+r.path, nil)
					req.Header.Set("Accept", "application/json")
					res, err := c.http.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					resp = res
				case r.method == "GET":
					resp, body = c.get(r.path)
				case r.method == "HEAD":
					res, err := c.http.Head(h.ts.URL + r.path)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					resp = res
				default:
					form := url.Values{}
					for k, v := range r.form {
						form[k] = v
					}
					if c.csrf != "" {
						form.Set("csrf", c.csrf)
					}
					resp, body = c.post(r.path, form, "")
				}
				if resp.StatusCode != r.want[i] {
					t.Fatalf("%s %s as %s: %d, want %d\n%.300s", r.method, r.path, role, resp.StatusCode, r.want[i], body)
				}
			})
		}
	}
}
