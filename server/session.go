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

func currentUser(c *gin.Context) *store.User { return stateOf(c).user }

func csrfToken(c *gin.Context) string { return stateOf(c).csrf }

func sessionToken(c *gin.Context) string { return stateOf(c).token }

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
	name = s.cookieName(c, name)
	v, found, plain := plainCookie(c.Request.Header["Cookie"], name)
	if !found {
		return "", false
	}
	if plain {
		return v, true
	}
	// Quotes or odd characters: net/http's rules decide.
	ck, err := c.Request.Cookie(name)
	if err != nil {
		return "", false
	}
	return ck.Value, true
}

// plainCookie finds the first cookie called name in Cookie header lines
// without allocating, as every signed-in page view reads one. plain says
// whether its value is made only of characters net/http takes as they are
// (a session token's); otherwise the caller asks net/http.
func plainCookie(lines []string, name string) (value string, found, plain bool) {
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, _ := strings.Cut(strings.Trim(part, " \t"), "=")
			if strings.Trim(k, " \t") != name {
				continue
			}
			for i := 0; i < len(v); i++ {
				if b := v[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
					return "", true, false
				}
			}
			return v, true, true
		}
	}
	return "", false, false
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
			st := stateOf(c)
			st.user, st.token, st.csrf = u, token, csrf
			c.Next()
			return
		case errors.Is(err, store.ErrExpired):
			stateOf(c).expired = true
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
// page view does not need a database round trip for the session. Every
// revocation in this process (sign-out, sign-in again, sign out everywhere,
// password change, deactivation, role change) drops the entries it touches
// and moves the generation on, so that a lookup that read the store before
// the revocation does not put the revoked session back.
type sessionCache struct {
	mu      sync.RWMutex
	entries map[sessionKey]sessionEntry
	gen     uint64
}

// sessionKey is the token's hash, as the store keeps it.
type sessionKey [sha256.Size]byte

type sessionEntry struct {
	user    *store.User
	csrf    string // sessionCSRF of the token, derived once
	expires time.Time
	fresh   time.Time // when this entry must be read again from the store
}

const (
	sessionCacheTTL = 5 * time.Second
	sessionCacheMax = 50000
)

func newSessionCache() *sessionCache { return &sessionCache{entries: map[sessionKey]sessionEntry{}} }

func (c *sessionCache) get(k *sessionKey) (sessionEntry, bool) {
	c.mu.RLock()
	e, ok := c.entries[*k]
	c.mu.RUnlock()
	return e, ok
}

// generation is read before the store is: put keeps an entry only if no
// revocation happened since.
func (c *sessionCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *sessionCache) put(k *sessionKey, e sessionEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.entries) >= sessionCacheMax {
		c.entries = map[sessionKey]sessionEntry{}
	}
	c.entries[*k] = e
}

// drop removes an entry the store no longer knows. It is not a revocation
// (the session is gone already), so the generation stays: a stream of
// unknown cookies must not keep other sessions out of the cache.
func (c *sessionCache) drop(k *sessionKey) {
	c.mu.Lock()
	delete(c.entries, *k)
	c.mu.Unlock()
}

// forget revokes one session in the cache.
func (c *sessionCache) forget(k *sessionKey) {
	c.mu.Lock()
	delete(c.entries, *k)
	c.gen++
	c.mu.Unlock()
}

func (c *sessionCache) forgetUser(id int64) {
	c.mu.Lock()
	for k, e := range c.entries {
		if e.user.ID == id {
			delete(c.entries, k)
		}
	}
	c.gen++
	c.mu.Unlock()
}

// sessionUser returns the session's user and its CSRF token.
func (s *Server) sessionUser(ctx context.Context, token string) (*store.User, string, error) {
	key := sessionKey(auth.TokenKey(token))
	now := s.cfg.Now()
	if e, ok := s.sessions.get(&key); ok && now.Before(e.fresh) {
		if now.After(e.expires) {
			return nil, "", store.ErrExpired
		}
		return e.user, e.csrf, nil
	}
	gen := s.sessions.generation()
	u, expires, err := s.store.SessionUser(ctx, key[:], s.cfg.SessionIdle)
	if err != nil {
		s.sessions.drop(&key)
		return nil, "", err
	}
	csrf := sessionCSRF(token)
	s.sessions.put(&key, sessionEntry{user: u, csrf: csrf, expires: expires, fresh: now.Add(sessionCacheTTL)}, gen)
	return u, csrf, nil
}

// forgetUser drops cached sessions of a user, as after a role change.
func (s *Server) forgetUser(id int64) { s.sessions.forgetUser(id) }

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
	tok := sessionToken(c)
	if tok == "" {
		return nil
	}
	key := sessionKey(auth.TokenKey(tok))
	if err := s.store.DeleteSession(c.Request.Context(), key[:]); err != nil {
		return err
	}
	s.sessions.forget(&key)
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
