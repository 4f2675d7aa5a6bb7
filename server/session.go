package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/server/auth"
	"coldstart/server/store"
)

const sessionCookie = "coldstart_session"

func currentUser(c *gin.Context) *store.User {
	if v, ok := c.Get(ctxUser); ok {
		return v.(*store.User)
	}
	return nil
}

func csrfToken(c *gin.Context) string { return c.GetString(ctxCSRF) }

func csrfValid(c *gin.Context, got string) bool { return auth.Equal(got, csrfToken(c)) }

// sessionCSRF derives a signed-in user's CSRF token from the session token,
// so it changes with every sign-in and needs no storage.
func sessionCSRF(token string) string {
	h := sha256.Sum256([]byte("coldstart-csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func (s *Server) secure(c *gin.Context) bool {
	return s.cfg.SecureCookies || c.Request.TLS != nil
}

// cookieName adds the __Host- prefix to Secure cookies: browsers then
// accept the cookie only from this host over HTTPS, for the whole site, so a
// neighbouring subdomain cannot plant one.
func (s *Server) cookieName(c *gin.Context, name string) string {
	if s.secure(c) {
		return "__Host-" + name
	}
	return name
}

func (s *Server) cookie(c *gin.Context, name string) (string, bool) {
	ck, err := c.Request.Cookie(s.cookieName(c, name))
	if err != nil {
		return "", false
	}
	return ck.Value, true
}

func (s *Server) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.cookieName(c, name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure(c), SameSite: http.SameSiteLaxMode})
}

// loadSession finds the signed-in user, if any, and the CSRF token of the
// page. Visitors get no cookie.
func (s *Server) loadSession(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/static/") || c.Request.URL.Path == "/healthz" || c.Request.URL.Path == "/metrics" {
		c.Next()
		return
	}
	if token, ok := s.cookie(c, sessionCookie); ok && token != "" && len(token) <= 128 {
		u, csrf, err := s.sessionUser(c.Request.Context(), token)
		switch {
		case err == nil:
			c.Set(ctxUser, u)
			c.Set(ctxToken, token)
			c.Set(ctxCSRF, csrf)
			c.Next()
			return
		case errors.Is(err, store.ErrExpired):
			c.Set(ctxExpired, true)
			s.setCookie(c, sessionCookie, "", -1)
		case errors.Is(err, store.ErrNotFound):
			s.setCookie(c, sessionCookie, "", -1)
		default:
			s.internal(c, err)
			return
		}
	}
	c.Next()
}

// sessionCache keeps recently seen sessions for a few seconds, so that a
// page view does not need a database round trip for the session.
type sessionCache struct {
	mu      sync.RWMutex
	entries map[string]sessionEntry
}

type sessionEntry struct {
	user    *store.User
	csrf    string // sessionCSRF of the token, derived once
	expires time.Time
	fresh   time.Time // when this entry must be read again from the store
}

const sessionCacheTTL = 5 * time.Second

func newSessionCache() *sessionCache { return &sessionCache{entries: map[string]sessionEntry{}} }

// sessionUser returns the session's user and its CSRF token.
func (s *Server) sessionUser(ctx context.Context, token string) (*store.User, string, error) {
	key := string(auth.HashToken(token))
	now := s.cfg.Now()
	s.sessions.mu.RLock()
	e, ok := s.sessions.entries[key]
	s.sessions.mu.RUnlock()
	if ok && now.Before(e.fresh) {
		if now.After(e.expires) {
			return nil, "", store.ErrExpired
		}
		return e.user, e.csrf, nil
	}
	u, expires, err := s.store.SessionUser(ctx, []byte(key), s.cfg.SessionIdle)
	if err != nil {
		s.forgetSession(key)
		return nil, "", err
	}
	csrf := sessionCSRF(token)
	s.sessions.mu.Lock()
	if len(s.sessions.entries) > 50000 {
		s.sessions.entries = map[string]sessionEntry{}
	}
	s.sessions.entries[key] = sessionEntry{user: u, csrf: csrf, expires: expires, fresh: now.Add(sessionCacheTTL)}
	s.sessions.mu.Unlock()
	return u, csrf, nil
}

func (s *Server) forgetSession(key string) {
	s.sessions.mu.Lock()
	delete(s.sessions.entries, key)
	s.sessions.mu.Unlock()
}

// forgetUser drops cached sessions of a user, as after a role change.
func (s *Server) forgetUser(id int64) {
	s.sessions.mu.Lock()
	for k, e := range s.sessions.entries {
		if e.user.ID == id {
			delete(s.sessions.entries, k)
		}
	}
	s.sessions.mu.Unlock()
}

// startSession signs a user in: a new random token, stored hashed. The
// session the browser had before, if any, is revoked.
func (s *Server) startSession(c *gin.Context, u *store.User) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	token := auth.NewToken()
	if err := s.store.CreateSession(c.Request.Context(), u.ID, auth.HashToken(token), s.cfg.Now().Add(s.cfg.SessionTTL)); err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, token, int(s.cfg.SessionTTL.Seconds()))
	return nil
}

type authData struct {
	Signup bool
	Email  string
	Next   string
	Error  string
	// OIDC names the identity provider of the "Sign in with" button; empty
	// without single sign-on.
	OIDC string
	// Passwords: email and password sign-in is on.
	Passwords bool
}

// withLogins fills in which ways of signing in the server offers.
func (s *Server) withLogins(d authData) authData {
	if s.oidc != nil {
		d.OIDC = s.oidcName()
	}
	d.Passwords = !s.cfg.NoPasswordLogin
	return d
}

func (s *Server) signinPage(c *gin.Context) {
	if currentUser(c) != nil {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	p := s.newPage(c, "Sign in", s.withLogins(authData{Next: safeNext(c.Query("next"))}))
	p.Nav = "signin"
	if c.Query("expired") != "" {
		p.Flash = "Your session has expired. Please sign in again."
	}
	if c.Query("everywhere") != "" {
		p.Flash = "You were signed out on every device."
	}
	s.render(c, http.StatusOK, "auth", p)
}

func (s *Server) signupPage(c *gin.Context) {
	if currentUser(c) != nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	p := s.newPage(c, "Sign up", s.withLogins(authData{Signup: true, Next: safeNext(c.Query("next"))}))
	p.Nav = "signup"
	p.SignupOpen = s.signupAllowed(c.Request.Context())
	s.render(c, http.StatusOK, "auth", p)
}

// signupAllowed: whether visitors may create accounts. The first admin
// never comes from here (see links.go), and the store decides again inside
// the transaction that creates the account.
func (s *Server) signupAllowed(context.Context) bool {
	return s.cfg.SignupOpen && !s.cfg.NoPasswordLogin
}

func (s *Server) authError(c *gin.Context, code int, d authData, msg string) {
	d.Error = msg
	title := "Sign in"
	if d.Signup {
		title = "Sign up"
	}
	p := s.newPage(c, title, s.withLogins(d))
	if d.Signup {
		p.SignupOpen = s.signupAllowed(c.Request.Context())
	}
	s.render(c, code, "auth", p)
}

func clientIP(c *gin.Context) string {
	ip := c.ClientIP()
	if parsed := net.ParseIP(ip); parsed != nil && parsed.To4() == nil {
		// Limit IPv6 clients per /64, which one host usually holds.
		return parsed.Mask(net.CIDRMask(64, 128)).String()
	}
	return ip
}

func (s *Server) signin(c *gin.Context) {
	d := authData{Email: c.PostForm("email"), Next: safeNext(c.PostForm("next"))}
	if len(d.Email) > auth.MaxEmail {
		d.Email = d.Email[:auth.MaxEmail]
	}
	if s.cfg.NoPasswordLogin {
		s.authError(c, http.StatusForbidden, d, "This server signs in only through "+s.oidcName()+".")
		return
	}
	email := strings.ToLower(strings.TrimSpace(d.Email))
	password := c.PostForm("password")
	if email == "" || password == "" {
		s.authError(c, http.StatusBadRequest, d, "Enter your email and password.")
		return
	}
	ip := clientIP(c)
	fromAddr, ok, wait := s.throttles.signinAddr.Take(ip)
	if !ok {
		s.authError(c, http.StatusTooManyRequests, d, fmt.Sprintf("Too many failed sign-ins from your network. Try again in %s.", waitText(wait)))
		return
	}
	pair := email + "\x00" + ip
	if _, ok, wait := s.throttles.signinPair.Take(pair); !ok {
		fromAddr.Refund()
		s.authError(c, http.StatusTooManyRequests, d, fmt.Sprintf("Too many failed sign-ins to this account from your network. Try again in %s, or sign in from another network.", waitText(wait)))
		return
	}
	u, err := s.store.UserByEmail(c.Request.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internal(c, err)
		return
	}
	var hash []byte
	if u != nil {
		hash = u.PasswordHash
	}
	if !auth.VerifyPassword(hash, password) || u == nil {
		s.logger.InfoContext(c.Request.Context(), "sign-in refused", slog.String("ip", c.ClientIP()))
		s.authError(c, http.StatusUnauthorized, d, "The email or the password is not right.")
		return
	}
	if !u.Active() {
		// Said only to whoever knows the password.
		fromAddr.Refund()
		s.authError(c, http.StatusForbidden, d, "This account is deactivated. Ask an admin to reactivate it.")
		return
	}
	// A success costs nothing: the address gets its attempt back and the
	// account's failures from this address are forgotten.
	fromAddr.Refund()
	s.throttles.signinPair.Forget(pair)
	if err := s.startSession(c, u); err != nil {
		s.internal(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, d.Next)
}

func (s *Server) signup(c *gin.Context) {
	d := authData{Signup: true, Email: c.PostForm("email"), Next: safeNext(c.PostForm("next"))}
	if len(d.Email) > 300 {
		d.Email = d.Email[:300]
	}
	if !s.signupAllowed(c.Request.Context()) {
		// Answered before hashing anything; the store decides again.
		s.authError(c, http.StatusForbidden, d, "Sign-up is closed on this server. Ask your instructor for an invitation.")
		return
	}
	if _, ok, wait := s.throttles.signup.Take(clientIP(c)); !ok {
		s.authError(c, http.StatusTooManyRequests, d, fmt.Sprintf("Too many sign-ups from your network. Try again in %s.", waitText(wait)))
		return
	}
	email, err := auth.NormalizeEmail(d.Email)
	if err != nil {
		s.authError(c, http.StatusBadRequest, d, err.Error()+".")
		return
	}
	hash, err := auth.HashPassword(c.PostForm("password"))
	if err != nil {
		s.authError(c, http.StatusBadRequest, d, capitalize(err.Error())+".")
		return
	}
	u, err := s.store.SignUp(c.Request.Context(), strings.ToLower(email), hash, s.signupAllowed(c.Request.Context()))
	if errors.Is(err, store.ErrSignupClosed) {
		s.authError(c, http.StatusForbidden, d, "Sign-up is closed on this server. Ask your instructor for an invitation.")
		return
	}
	if errors.Is(err, store.ErrEmailTaken) {
		s.authError(c, http.StatusConflict, d, "An account with this email already exists. Sign in instead.")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	s.logger.InfoContext(c.Request.Context(), "account created", slog.Int64("user", u.ID), slog.String("role", string(u.Role)))
	if err := s.startSession(c, u); err != nil {
		s.internal(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, d.Next)
}

// endSession revokes the request's session, if it has one.
func (s *Server) endSession(c *gin.Context) error {
	tok := c.GetString(ctxToken)
	if tok == "" {
		return nil
	}
	key := auth.HashToken(tok)
	if err := s.store.DeleteSession(c.Request.Context(), key); err != nil {
		return err
	}
	s.forgetSession(string(key))
	return nil
}

func (s *Server) signout(c *gin.Context) {
	if err := s.endSession(c); err != nil {
		s.internal(c, err)
		return
	}
	s.setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
