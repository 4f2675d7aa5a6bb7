package server

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"coldstart/server/auth"
	"coldstart/server/store"
)

// OIDCConfig is single sign-on through an OpenID Connect provider.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// Name is what the sign-in button says ("Sign in with Name").
	Name string
	// AllowedDomains, when set, are the only email domains let in.
	AllowedDomains []string
	// Members of these groups (the "groups" claim) become instructors or
	// admins at sign-in; nobody is lowered.
	InstructorGroup, AdminGroup string
	// HTTPClient reaches the provider; nil: a client with a 10 s timeout.
	HTTPClient *http.Client
}

// oidcFlow holds the provider once its discovery document was read; it is
// read at the first sign-in, and again while the provider cannot be reached.
type oidcFlow struct {
	cfg      *OIDCConfig
	mu       sync.Mutex
	provider *oidc.Provider
}

const oidcCookie = "coldstart_oidc"

// oidcState travels in a short-lived cookie from the login redirect to the
// callback: the state and nonce the provider must send back, the PKCE
// verifier, and where to go afterwards.
type oidcState struct {
	State, Nonce, Verifier, Next string
}

func (f *oidcFlow) client() *http.Client {
	if f.cfg.HTTPClient != nil {
		return f.cfg.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (f *oidcFlow) discover(ctx context.Context) (*oidc.Provider, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.provider != nil {
		return f.provider, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, f.client()), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, f.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	f.provider = p
	return p, nil
}

func (s *Server) oauthConfig(c *gin.Context, p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: s.oidc.cfg.ClientID, ClientSecret: s.oidc.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.baseURL(c) + "/auth/oidc/callback", Scopes: []string{oidc.ScopeOpenID, "email", "profile", "groups"}}
}

func (s *Server) oidcUnavailable(c *gin.Context, err error) {
	s.logger.WarnContext(c.Request.Context(), "identity provider unreachable", slog.String("issuer", s.oidc.cfg.Issuer), slog.Any("err", err))
	s.fail(c, http.StatusBadGateway, "The identity provider cannot be reached",
		"Signing in with "+s.oidcName()+" does not work right now. Try again in a minute; if it goes on, tell your administrator.")
}

func (s *Server) oidcName() string {
	if s.oidc != nil && s.oidc.cfg.Name != "" {
		return s.oidc.cfg.Name
	}
	return "your company account"
}

func (s *Server) requireOIDC(c *gin.Context) {
	if s.oidc == nil {
		s.fail(c, http.StatusNotFound, "Single sign-on is not set up", "This server signs in with email and password only.")
		return
	}
	c.Next()
}

// oidcLogin sends the browser to the provider: authorization code flow with
// PKCE, a state and a nonce.
func (s *Server) oidcLogin(c *gin.Context) {
	p, err := s.oidc.discover(c.Request.Context())
	if err != nil {
		s.oidcUnavailable(c, err)
		return
	}
	st := oidcState{State: auth.NewToken(), Nonce: auth.NewToken(), Verifier: oauth2.GenerateVerifier(), Next: safeNext(c.Query("next"))}
	b, _ := json.Marshal(st)
	s.setCookie(c, oidcCookie, base64.RawURLEncoding.EncodeToString(b), 600)
	url := s.oauthConfig(c, p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	c.Redirect(http.StatusFound, url)
}

// errSignIn is a refused single sign-on, with what the user is told.
func errSignIn(message string) *Error {
	return errorf(EForbidden, "Signing in did not work", message)
}

// oidcCallback finishes the flow: the state must match, the code is
// exchanged with the PKCE verifier, the ID token is verified (issuer,
// audience, signature with the provider's keys, expiry) and must carry our
// nonce and a verified email of an allowed domain.
func (s *Server) oidcCallback(c *gin.Context) {
	ctx := c.Request.Context()
	raw, ok := s.cookie(c, oidcCookie)
	s.setCookie(c, oidcCookie, "", -1)
	var st oidcState
	if b, err := base64.RawURLEncoding.DecodeString(raw); !ok || err != nil || json.Unmarshal(b, &st) != nil || st.State == "" {
		s.failWith(c, errSignIn("The sign-in started too long ago or in another browser. Start again from the sign-in page."))
		return
	}
	if subtle.ConstantTimeCompare([]byte(c.Query("state")), []byte(st.State)) != 1 {
		s.logger.WarnContext(ctx, "single sign-on refused", slog.String("why", "state mismatch"))
		s.failWith(c, errSignIn("The answer from the identity provider does not belong to this sign-in. Start again from the sign-in page."))
		return
	}
	if e := c.Query("error"); e != "" {
		s.logger.InfoContext(ctx, "identity provider refused", slog.String("error", e), slog.String("description", c.Query("error_description")))
		s.failWith(c, errSignIn("The identity provider did not sign you in ("+e+")."))
		return
	}
	p, err := s.oidc.discover(ctx)
	if err != nil {
		s.oidcUnavailable(c, err)
		return
	}
	tok, err := s.oauthConfig(c, p).Exchange(oidc.ClientContext(ctx, s.oidc.client()), c.Query("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			s.logger.WarnContext(ctx, "single sign-on refused", slog.String("why", "code exchange"), slog.Any("err", err))
			s.failWith(c, errSignIn("The identity provider did not accept this sign-in. Start again from the sign-in page."))
			return
		}
		s.oidcUnavailable(c, err)
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		s.failWith(c, errSignIn("The identity provider sent no ID token."))
		return
	}
	idt, err := p.VerifierContext(oidc.ClientContext(ctx, s.oidc.client()), &oidc.Config{ClientID: s.oidc.cfg.ClientID, Now: s.cfg.Now}).Verify(ctx, rawID)
	if err != nil {
		s.logger.WarnContext(ctx, "single sign-on refused", slog.String("why", "ID token"), slog.Any("err", err))
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			s.failWith(c, errSignIn("The identity provider's answer has expired. Start again from the sign-in page."))
			return
		}
		s.failWith(c, errSignIn("The identity provider's answer could not be verified, so you were not signed in."))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		s.logger.WarnContext(ctx, "single sign-on refused", slog.String("why", "nonce mismatch"))
		s.failWith(c, errSignIn("The identity provider's answer does not belong to this sign-in. Start again from the sign-in page."))
		return
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
		Groups        []any  `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		s.failWith(c, errSignIn("The identity provider's answer could not be read."))
		return
	}
	email, err := auth.NormalizeEmail(claims.Email)
	if err != nil {
		s.failWith(c, errSignIn("The identity provider gave no usable email address."))
		return
	}
	email = strings.ToLower(email)
	if v, _ := claims.EmailVerified.(bool); !v && claims.EmailVerified != "true" {
		s.failWith(c, errSignIn("Your email address "+email+" is not verified by the identity provider. Verify it there first."))
		return
	}
	if d := s.oidc.cfg.AllowedDomains; len(d) > 0 {
		_, domain, _ := strings.Cut(email, "@")
		if !slices.Contains(d, domain) {
			s.failWith(c, errSignIn("Accounts of "+domain+" are not let in on this server."))
			return
		}
	}
	u, err := s.store.SignInOIDC(ctx, store.OIDCIdentity{Issuer: idt.Issuer, Subject: idt.Subject, Email: email,
		Name: claims.Name, Role: s.roleFromGroups(claims.Groups)})
	if err != nil {
		s.failWith(c, err)
		return
	}
	s.forgetUser(u.ID)
	if err := s.startSession(c, u); err != nil {
		s.internal(c, err)
		return
	}
	s.logger.InfoContext(ctx, "signed in with the identity provider", slog.Int64("user", u.ID), slog.String("role", string(u.Role)))
	c.Redirect(http.StatusSeeOther, safeNext(st.Next))
}

func (s *Server) roleFromGroups(groups []any) store.Role {
	has := func(g string) bool {
		if g == "" {
			return false
		}
		for _, x := range groups {
			if fmt.Sprint(x) == g {
				return true
			}
		}
		return false
	}
	switch {
	case has(s.oidc.cfg.AdminGroup):
		return store.RoleAdmin
	case has(s.oidc.cfg.InstructorGroup):
		return store.RoleInstructor
	}
	return store.RoleStudent
}
