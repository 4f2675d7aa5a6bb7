package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"coldstart/server"
	"coldstart/server/auth"
	"coldstart/server/store"
)

const testPassword = "correct horse battery"

// user creates an account with testPassword and a role.
func (h *harness) user(email string, role store.Role) *store.User {
	h.t.Helper()
	hash, err := auth.HashPassword(testPassword)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx := context.Background()
	u, err := h.store.CreateUser(ctx, email, hash)
	if err != nil {
		h.t.Fatalf("create %s: %v", email, err)
	}
	if role != store.RoleStudent {
		if err := h.store.SetRole(ctx, u.ID, role); err != nil {
			h.t.Fatal(err)
		}
		u.Role = role
	}
	return u
}

// signIn signs the client in with testPassword.
func (c *client) signIn(email string) {
	c.h.t.Helper()
	c.signInWith(email, testPassword)
}

func (c *client) signInWith(email, password string) {
	c.h.t.Helper()
	c.get("/signin")
	resp, body := c.post("/signin", url.Values{"csrf": {c.csrf}, "email": {email}, "password": {password}}, "")
	if resp.StatusCode != http.StatusSeeOther {
		c.h.t.Fatalf("sign in %s: %d %.300s", email, resp.StatusCode, body)
	}
	c.get("/") // pick up the session's CSRF token
}

// signedIn is a client signed in to a new account with the role.
func (h *harness) signedIn(email string, role store.Role) *client {
	h.t.Helper()
	h.user(email, role)
	c := h.client()
	c.signIn(email)
	return c
}

var handoverLink = regexp.MustCompile(`<code class="handover" id="handover-link">https?://[^/]+(/[a-z]+/[A-Za-z0-9_-]+)</code>`)

func TestFirstAdminComesFromTheSetupLink(t *testing.T) {
	h := newHarness(t, false)
	visitor := h.client()
	visitor.signUp("first@example.com")
	resp, body := visitor.get("/admin/users")
	expect(t, resp, body, 403, "Admins only")

	token := auth.NewToken()
	if made, err := h.store.SetupLink(context.Background(), auth.HashToken(token)); err != nil || !made {
		t.Fatalf("setup link: %v %v", made, err)
	}
	op := h.client()
	resp, body = op.get("/setup/" + token)
	expect(t, resp, body, 200, "Create the first admin", "no admin yet")
	if resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("Referrer-Policy = %q on a page whose address holds a secret", resp.Header.Get("Referrer-Policy"))
	}
	for _, tt := range []struct {
		name string
		form url.Values
		code int
		says string
	}{
		{"BadEmail", url.Values{"email": {"nope"}, "password": {testPassword}, "confirm": {testPassword}}, 400, "does not look like an email"},
		{"Mismatch", url.Values{"email": {"op@example.com"}, "password": {testPassword}, "confirm": {"other password"}}, 400, "differ"},
		{"Short", url.Values{"email": {"op@example.com"}, "password": {"short"}, "confirm": {"short"}}, 400, "at least 8"},
		{"TakenEmail", url.Values{"email": {"first@example.com"}, "password": {testPassword}, "confirm": {testPassword}}, 409, "already exists"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := op.post("/setup/"+token, tt.form, "")
			expect(t, resp, body, tt.code, tt.says)
		})
	}
	resp, body = op.post("/setup/"+token, url.Values{"email": {"op@example.com"}, "name": {"Operator"}, "password": {testPassword}, "confirm": {testPassword}}, "")
	expect(t, resp, body, 303)
	resp, body = op.get("/admin/users")
	expect(t, resp, body, 200, "op@example.com", "first@example.com")

	again := h.client()
	resp, body = again.post("/setup/"+token, url.Values{"email": {"x@example.com"}, "password": {testPassword}, "confirm": {testPassword}}, "")
	expect(t, resp, body, 410, "does not work any more")
	if made, err := h.store.SetupLink(context.Background(), auth.HashToken(auth.NewToken())); err != nil || made {
		t.Fatalf("a setup link was made while an admin exists: %v %v", made, err)
	}
	if strings.Contains(h.logs.String(), token) {
		t.Fatal("the access log holds the setup token")
	}
}

// Two visitors sign up at once on a fresh server whose sign-up is closed:
// neither gets an account, and neither is admin.
func TestConcurrentSignUpsOnAFreshClosedServer(t *testing.T) {
	h := newHarness(t, false, func(c *server.Config) { c.SignupOpen = false })
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		c := h.client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := c.post("/signup", url.Values{"email": {string(rune('a'+i)) + "@example.com"}, "password": {testPassword}}, "")
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusForbidden {
			t.Errorf("sign-up %d: %d, want 403", i, code)
		}
	}
	if users, _ := h.store.Users(context.Background()); len(users) != 0 {
		t.Fatalf("closed sign-up created %d accounts", len(users))
	}
}

func TestSignOutEverywhere(t *testing.T) {
	h := newHarness(t, false)
	laptop := h.signedIn("a@example.com", store.RoleStudent)
	phone := h.client()
	phone.signIn("a@example.com")
	other := h.signedIn("b@example.com", store.RoleStudent)

	resp, body := laptop.get("/account")
	expect(t, resp, body, 200, "Sign out everywhere", "Change your password")
	resp, body = laptop.post("/account/sign-out-everywhere", url.Values{"csrf": {laptop.csrf}}, "")
	expect(t, resp, body, 303)
	for name, c := range map[string]*client{"laptop": laptop, "phone": phone} {
		if resp, _ := c.get("/progress"); resp.StatusCode != 303 {
			t.Errorf("%s still signed in: %d", name, resp.StatusCode)
		}
	}
	if resp, _ := other.get("/progress"); resp.StatusCode != 200 {
		t.Errorf("another account was signed out: %d", resp.StatusCode)
	}
	if log, _ := h.store.AuditLog(context.Background(), store.AuditSignOutAll, 0); len(log) != 1 {
		t.Fatalf("audit entries = %+v", log)
	}
}

func TestChangePassword(t *testing.T) {
	h := newHarness(t, false)
	c := h.signedIn("a@example.com", store.RoleStudent)
	phone := h.client()
	phone.signIn("a@example.com")
	const newPassword = "a brand new password"
	for _, tt := range []struct {
		name string
		form url.Values
		code int
		says string
	}{
		{"WrongCurrent", url.Values{"current": {"not it at all"}, "password": {newPassword}, "confirm": {newPassword}}, 401, "not right"},
		{"Mismatch", url.Values{"current": {testPassword}, "password": {newPassword}, "confirm": {"something else"}}, 400, "differ"},
		{"TooShort", url.Values{"current": {testPassword}, "password": {"short"}, "confirm": {"short"}}, 400, "at least 8"},
		{"TooLong", url.Values{"current": {testPassword}, "password": {strings.Repeat("x", 73)}, "confirm": {strings.Repeat("x", 73)}}, 400, "at most 72"},
		{"NoToken", url.Values{"current": {testPassword}, "password": {newPassword}, "confirm": {newPassword}, "csrf": {"forged"}}, 403, "expired"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := tt.form
			if form.Get("csrf") == "" {
				form.Set("csrf", c.csrf)
			}
			resp, body := c.post("/account/password", form, "")
			expect(t, resp, body, tt.code, tt.says)
		})
	}
	resp, body := c.post("/account/password", url.Values{"csrf": {c.csrf}, "current": {testPassword}, "password": {newPassword}, "confirm": {newPassword}}, "")
	expect(t, resp, body, 303)
	resp, body = c.get("/account?done=password")
	expect(t, resp, body, 200, "Your password was changed")
	if resp, _ := phone.get("/progress"); resp.StatusCode != 303 {
		t.Fatalf("the other session survived a password change: %d", resp.StatusCode)
	}
	fresh := h.client()
	fresh.get("/signin")
	resp, body = fresh.post("/signin", url.Values{"email": {"a@example.com"}, "password": {testPassword}}, "")
	expect(t, resp, body, 401)
	fresh.signInWith("a@example.com", newPassword)
}

func TestInvitationsDeactivationAndResets(t *testing.T) {
	h := newHarness(t, false, func(c *server.Config) { c.SignupOpen = false; c.PublicURL = "https://course.example.com" })
	ctx := context.Background()
	admin := h.signedIn("admin@example.com", store.RoleAdmin)

	resp, body := admin.post("/admin/users", url.Values{"csrf": {admin.csrf}, "email": {"New@Example.com"}, "name": {"Nia New"}, "role": {"student"}}, "")
	expect(t, resp, body, 200, "The invitation link for <strong>new@example.com</strong>", "https://course.example.com/invite/")
	link := handoverLink.FindStringSubmatch(body)[1]

	t.Run("BadInvitations", func(t *testing.T) {
		for _, tt := range []struct {
			form url.Values
			code int
			says string
		}{
			{url.Values{"email": {"not an email"}}, 400, "does not look like an email"},
			{url.Values{"email": {"x@example.com"}, "role": {"root"}}, 400, "student, instructor or admin"},
			{url.Values{"email": {"new@example.com"}}, 409, "already exists"},
			{url.Values{"email": {"y@example.com"}, "group": {"99"}}, 400, "There is no such group"},
		} {
			tt.form.Set("csrf", admin.csrf)
			resp, body := admin.post("/admin/users", tt.form, "")
			expect(t, resp, body, tt.code, tt.says)
		}
		if _, err := h.store.UserByEmail(ctx, "y@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("account created despite the missing group: %v", err)
		}
	})

	invited := h.client()
	resp, body = invited.get(link)
	expect(t, resp, body, 200, "You were invited as <strong>new@example.com</strong> (student)")
	resp, body = invited.post(link, url.Values{"name": {"Nia New"}, "password": {testPassword}, "confirm": {testPassword}}, "")
	expect(t, resp, body, 303)
	resp, body = invited.get("/progress")
	expect(t, resp, body, 200)
	resp, body = h.client().get(link)
	expect(t, resp, body, 410, "does not work any more")
	u, _ := h.store.UserByEmail(ctx, "new@example.com")

	t.Run("ListSearchAndFilters", func(t *testing.T) {
		h.user("teacher@example.com", store.RoleInstructor)
		admin.post("/admin/users", url.Values{"csrf": {admin.csrf}, "email": {"pending@example.com"}}, "")
		for _, tt := range []struct {
			query      string
			shows, not []string
		}{
			{"?q=nia", []string{"new@example.com"}, []string{"teacher@example.com", "pending@example.com"}},
			{"?role=instructor", []string{"teacher@example.com"}, []string{"new@example.com"}},
			{"?status=invited", []string{"pending@example.com"}, []string{"new@example.com", "teacher@example.com"}},
			{"?q=%25", nil, []string{"new@example.com"}}, // a % is a character, not a wildcard
			{"?status=bogus", nil, nil},
		} {
			resp, body := admin.get("/admin/users" + tt.query)
			if tt.query == "?status=bogus" {
				expect(t, resp, body, 400, "Unknown account status")
				continue
			}
			expect(t, resp, body, 200, tt.shows...)
			for _, n := range tt.not {
				if strings.Contains(body, "<th scope=\"row\">"+n) {
					t.Errorf("%s lists %s", tt.query, n)
				}
			}
		}
	})

	t.Run("DeactivateEndsSessionsAtOnce", func(t *testing.T) {
		resp, body := admin.post("/admin/users/"+itoa(u.ID)+"/deactivate", url.Values{"csrf": {admin.csrf}}, "")
		expect(t, resp, body, 303)
		if resp, _ := invited.get("/progress"); resp.StatusCode != 303 {
			t.Fatalf("a deactivated account's session still works: %d", resp.StatusCode)
		}
		c := h.client()
		c.get("/signin")
		resp, body = c.post("/signin", url.Values{"email": {"new@example.com"}, "password": {testPassword}}, "")
		expect(t, resp, body, 403, "deactivated")
		resp, body = admin.post("/admin/users/"+itoa(u.ID)+"/reset-link", url.Values{"csrf": {admin.csrf}}, "")
		expect(t, resp, body, 403, "deactivated")
		resp, body = admin.post("/admin/users/"+itoa(u.ID)+"/reactivate", url.Values{"csrf": {admin.csrf}}, "")
		expect(t, resp, body, 303)
		c.signIn("new@example.com")
	})

	t.Run("AdminCannotLockThemselvesOut", func(t *testing.T) {
		me, _ := h.store.UserByEmail(ctx, "admin@example.com")
		resp, body := admin.post("/admin/users/"+itoa(me.ID)+"/deactivate", url.Values{"csrf": {admin.csrf}}, "")
		expect(t, resp, body, 400, "lock yourself out")
		resp, body = admin.post("/admin/users/999/deactivate", url.Values{"csrf": {admin.csrf}}, "")
		expect(t, resp, body, 404)
		resp, body = admin.post("/admin/users/abc/deactivate", url.Values{"csrf": {admin.csrf}}, "")
		expect(t, resp, body, 404)
	})

	t.Run("ResetLink", func(t *testing.T) {
		session := h.client()
		session.signIn("new@example.com")
		resp, body := admin.post("/admin/users/"+itoa(u.ID)+"/reset-link", url.Values{"csrf": {admin.csrf}}, "")
		expect(t, resp, body, 200, "password reset link for <strong>new@example.com</strong>")
		reset := handoverLink.FindStringSubmatch(body)[1]
		if !strings.HasPrefix(reset, "/reset/") {
			t.Fatalf("reset link %s", reset)
		}
		c := h.client()
		resp, body = c.get(reset)
		expect(t, resp, body, 200, "Choose a new password for <strong>new@example.com</strong>")
		resp, body = c.post(reset, url.Values{"password": {"another good password"}, "confirm": {"another good password"}}, "")
		expect(t, resp, body, 303)
		if resp, _ := session.get("/progress"); resp.StatusCode != 303 {
			t.Fatalf("a session from before the reset survived: %d", resp.StatusCode)
		}
		resp, body = h.client().post(reset, url.Values{"password": {"a third password"}, "confirm": {"a third password"}}, "")
		expect(t, resp, body, 410)
		h.client().signInWith("new@example.com", "another good password")
	})

	t.Run("Audit", func(t *testing.T) {
		log, err := h.store.AuditLog(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, e := range log {
			seen[e.Action]++
			if e.Action == store.AuditDeactivate && (e.ActorEmail != "admin@example.com" || e.TargetEmail != "new@example.com") {
				t.Errorf("deactivation recorded as %+v", e)
			}
		}
		for _, a := range []string{store.AuditInvite, store.AuditDeactivate, store.AuditReactivate, store.AuditResetLink} {
			if seen[a] == 0 {
				t.Errorf("no %s in the audit log: %v", a, seen)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
