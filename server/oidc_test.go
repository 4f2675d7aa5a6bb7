package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"coldstart/server"
	"coldstart/server/auth"
	"coldstart/server/store"
)

// claimUser is a provider user whose ID token claims a test may alter.
type claimUser struct {
	*mockoidc.MockUser
	tweak func(*mockoidc.IDTokenClaims)
}

func (u claimUser) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if u.tweak != nil {
		u.tweak(c)
	}
	return u.MockUser.Claims(scope, c)
}

// startProvider runs a real OpenID Connect provider on loopback: discovery,
// JWKS with an RSA key, the code flow with PKCE. With *forge set, it
// breaks the signature of the ID tokens it hands out.
func startProvider(t *testing.T) (*mockoidc.MockOIDC, *atomic.Bool) {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	forge := &atomic.Bool{}
	_ = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.TokenEndpoint || !forge.Load() {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if id, ok := body["id_token"].(string); ok {
				last := id[len(id)-2]
				repl := byte('A')
				if last == 'A' {
					repl = 'B'
				}
				body["id_token"] = id[:len(id)-2] + string(repl) + id[len(id)-1:]
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body)
		})
	})
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m, forge
}

func ssoConfig(m *mockoidc.MockOIDC) func(*server.Config) {
	return func(c *server.Config) {
		cfg := m.Config()
		c.OIDC = &server.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Name: "Example SSO",
			AllowedDomains: []string{"example.com"}, InstructorGroup: "teachers", AdminGroup: "ops"}
	}
}

// sso runs the code flow in a browser-like client; tamper may change the
// callback's query before the client follows it.
func sso(t *testing.T, c *client, tamper func(url.Values)) (*http.Response, string) {
	t.Helper()
	resp, body := c.get("/auth/oidc/login?next=%2Fprogress")
	if resp.StatusCode != http.StatusFound {
		return resp, body
	}
	auth, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := auth.Query()
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(p) == "" {
			t.Fatalf("the authorization request has no %s: %s", p, auth)
		}
	}
	if q.Get("code_challenge_method") != "S256" {
		t.Fatalf("PKCE method %q, want S256", q.Get("code_challenge_method"))
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	pr, err := noFollow.Get(auth.String())
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	cb, err := url.Parse(pr.Header.Get("Location"))
	if err != nil || cb.Path != "/auth/oidc/callback" {
		t.Fatalf("the provider sent the browser to %q (%d)", pr.Header.Get("Location"), pr.StatusCode)
	}
	cq := cb.Query()
	if tamper != nil {
		tamper(cq)
	}
	return c.get("/auth/oidc/callback?" + cq.Encode())
}

func TestOIDC(t *testing.T) {
	m, forge := startProvider(t)
	h := newHarness(t, false, ssoConfig(m), func(c *server.Config) { c.SignupOpen = false })
	ctx := context.Background()
	user := func(sub, email string, verified bool, groups ...string) *mockoidc.MockUser {
		return &mockoidc.MockUser{Subject: sub, Email: email, EmailVerified: verified, Groups: groups}
	}

	t.Run("SignInPageOffersIt", func(t *testing.T) {
		resp, body := h.client().get("/signin")
		expect(t, resp, body, 200, "Sign in with Example SSO", `href="/auth/oidc/login?next=`, `id="password"`)
	})
	t.Run("FirstSignInCreatesTheAccount", func(t *testing.T) {
		m.QueueUser(user("sub-ann", "Ann@Example.com", true))
		c := h.client()
		resp, body := sso(t, c, nil)
		expect(t, resp, body, 303)
		if loc := resp.Header.Get("Location"); loc != "/progress" {
			t.Fatalf("after sign-in to %q, want /progress", loc)
		}
		resp, body = c.get("/progress")
		expect(t, resp, body, 200, "ann@example.com")
		u, err := h.store.UserByEmail(ctx, "ann@example.com")
		if err != nil || u.Role != store.RoleStudent {
			t.Fatalf("account %+v %v", u, err)
		}
		// The same subject later signs in to the same account.
		m.QueueUser(user("sub-ann", "ann@example.com", true))
		resp, body = sso(t, h.client(), nil)
		expect(t, resp, body, 303)
		if users, _ := h.store.FindUsers(ctx, store.UserFilter{Query: "ann@"}); len(users) != 1 {
			t.Fatalf("%d accounts for one person", len(users))
		}
	})
	t.Run("LinksAnExistingAccountAndMapsGroups", func(t *testing.T) {
		h.user("ben@example.com", store.RoleStudent)
		m.QueueUser(user("sub-ben", "ben@example.com", true, "engineering", "teachers"))
		c := h.client()
		resp, body := sso(t, c, nil)
		expect(t, resp, body, 303)
		resp, body = c.get("/cohort")
		expect(t, resp, body, 200, "Cohort")
		u, _ := h.store.UserByEmail(ctx, "ben@example.com")
		if u.Role != store.RoleInstructor {
			t.Fatalf("role %s, want instructor from the teachers group", u.Role)
		}
		c.signIn("ben@example.com") // the password still works for a linked account
	})
	t.Run("InvitedPersonSignsInWithIt", func(t *testing.T) {
		tok := auth.NewToken()
		if _, err := h.store.Invite(ctx, store.Actor{}, store.NewAccount{Email: "ivy@example.com", Role: store.RoleStudent}, auth.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
		c := h.client()
		resp, body := c.get("/invite/" + tok)
		expect(t, resp, body, 200, "sign in with Example SSO</a> as ivy@example.com")
		m.QueueUser(user("sub-ivy", "ivy@example.com", true))
		resp, body = sso(t, c, nil)
		expect(t, resp, body, 303)
		resp, body = c.get("/progress")
		expect(t, resp, body, 200, "ivy@example.com")
		if u, _ := h.store.UserByEmail(ctx, "ivy@example.com"); !u.Invited() {
			t.Fatal("single sign-on set a password on the invited account")
		}
	})
	t.Run("DeactivatedAccount", func(t *testing.T) {
		u := h.user("cat@example.com", store.RoleStudent)
		if err := h.store.SetActive(ctx, store.Actor{}, u.ID, false); err != nil {
			t.Fatal(err)
		}
		m.QueueUser(user("sub-cat", "cat@example.com", true))
		resp, body := sso(t, h.client(), nil)
		expect(t, resp, body, 403, "deactivated")
	})

	failures := []struct {
		name   string
		user   mockoidc.User
		tamper func(url.Values)
		forge  bool
		code   int
		says   string
	}{
		{"WrongIssuer", claimUser{user("s1", "d@example.com", true), func(c *mockoidc.IDTokenClaims) { c.Issuer = "https://idp.evil.example" }}, nil, false, 403, "could not be verified"},
		{"WrongAudience", claimUser{user("s1", "d@example.com", true), func(c *mockoidc.IDTokenClaims) { c.Audience = jwt.ClaimStrings{"another-app"} }}, nil, false, 403, "could not be verified"},
		{"BadSignature", user("s1", "d@example.com", true), nil, true, 403, "could not be verified"},
		{"Expired", claimUser{user("s1", "d@example.com", true), func(c *mockoidc.IDTokenClaims) {
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
		}}, nil, false, 403, "has expired"},
		{"StateMismatch", user("s1", "d@example.com", true), func(q url.Values) { q.Set("state", "forged-state") }, false, 403, "does not belong to this sign-in"},
		{"NonceMismatch", claimUser{user("s1", "d@example.com", true), func(c *mockoidc.IDTokenClaims) { c.Nonce = "replayed-nonce" }}, nil, false, 403, "does not belong to this sign-in"},
		{"UnverifiedEmail", user("s1", "d@example.com", false), nil, false, 403, "is not verified"},
		{"DomainNotAllowed", user("s1", "d@other.example", true), nil, false, 403, "other.example are not let in"},
		{"ProviderRefuses", user("s1", "d@example.com", true), func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }, false, 403, "did not sign you in (access_denied)"},
		{"CodeReplayed", user("s1", "d@example.com", true), func(q url.Values) { q.Set("code", "not-a-code") }, false, 403, "did not accept this sign-in"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			m.QueueUser(tt.user)
			forge.Store(tt.forge)
			defer forge.Store(false)
			c := h.client()
			resp, body := sso(t, c, tt.tamper)
			expect(t, resp, body, tt.code, tt.says)
			if resp, _ := c.get("/progress"); resp.StatusCode != 303 {
				t.Fatalf("signed in after a refused sign-on: %d", resp.StatusCode)
			}
			if _, err := h.store.UserByEmail(ctx, "d@example.com"); err == nil {
				t.Fatal("an account was created by a refused sign-on")
			}
		})
	}
	t.Run("CallbackWithoutLogin", func(t *testing.T) {
		resp, body := h.client().get("/auth/oidc/callback?code=x&state=y")
		expect(t, resp, body, 403, "started too long ago")
	})
}

func TestOIDCProviderDown(t *testing.T) {
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	ln.Close() // nothing answers there now
	h := newHarness(t, false, func(c *server.Config) {
		c.OIDC = &server.OIDCConfig{Issuer: issuer, ClientID: "id", ClientSecret: "secret"}
	})
	resp, body := h.client().get("/auth/oidc/login")
	expect(t, resp, body, 502, "cannot be reached")
	if strings.Contains(body, "connection refused") {
		t.Fatal("the error page shows internal error text")
	}

	t.Run("AfterDiscovery", func(t *testing.T) {
		m, _ := startProvider(t)
		h := newHarness(t, false, ssoConfig(m))
		c := h.client()
		resp, _ := c.get("/auth/oidc/login")
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		_ = m.Shutdown()
		resp, body := c.get("/auth/oidc/callback?code=x&state=" + url.Values{"s": {stateOf(t, resp)}}.Get("s"))
		expect(t, resp, body, 502, "cannot be reached")
	})
}

func stateOf(t *testing.T, resp *http.Response) string {
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

func TestPasswordLoginOff(t *testing.T) {
	m, _ := startProvider(t)
	h := newHarness(t, false, ssoConfig(m), func(c *server.Config) { c.NoPasswordLogin = true })
	h.user("pat@example.com", store.RoleStudent)
	c := h.client()
	resp, body := c.get("/signin")
	expect(t, resp, body, 200, "Sign in with Example SSO")
	if strings.Contains(body, `id="password"`) {
		t.Fatal("the sign-in page still asks for a password")
	}
	resp, body = c.post("/signin", url.Values{"email": {"pat@example.com"}, "password": {testPassword}}, "")
	expect(t, resp, body, 403, "signs in only through Example SSO")
	resp, body = c.post("/signup", url.Values{"email": {"new@example.com"}, "password": {testPassword}}, "")
	expect(t, resp, body, 403, "closed")
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
