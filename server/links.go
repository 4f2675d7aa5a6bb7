package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"coldstart/server/auth"
	"coldstart/server/store"
)

// A one-time link: an invitation (/invite/TOKEN), a password reset
// (/reset/TOKEN) or the setup link of the first admin (/setup/TOKEN). Each
// page sets a password and signs the user in; the link then stops working.

type linkData struct {
	Kind  store.LinkKind
	User  *store.User // the invited or reset account; nil for setup
	Email string      // what a setup form was sent with
	Name  string
	Error string
	OIDC  string // the identity provider an invited user may sign in with instead
}

// linkPath is the path of a link's page.
func linkPath(kind store.LinkKind, token string) string { return "/" + string(kind) + "/" + token }

// linkURL is the address of a link to hand over: the public URL when the
// server has one, else the address this request came to.
func (s *Server) linkURL(c *gin.Context, kind store.LinkKind, token string) string {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if s.secure(c) {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	if kind == "" {
		return base
	}
	return base + linkPath(kind, token)
}

func linkTitle(kind store.LinkKind) string {
	switch kind {
	case store.LinkInvite:
		return "Accept your invitation"
	case store.LinkReset:
		return "Choose a new password"
	}
	return "Create the first admin"
}

func (s *Server) linkToken(c *gin.Context) (string, bool) {
	t := c.Param("token")
	if len(t) == 0 || len(t) > 128 || !isToken(t) {
		s.failWith(c, store.ErrLinkInvalid)
		return "", false
	}
	return t, true
}

func (s *Server) linkPage(kind store.LinkKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, ok := s.linkToken(c)
		if !ok {
			return
		}
		l, err := s.store.PeekLink(c.Request.Context(), auth.HashToken(token), kind)
		if err != nil {
			s.failWith(c, err)
			return
		}
		s.renderLink(c, http.StatusOK, linkData{Kind: kind, User: l.User})
	}
}

func (s *Server) renderLink(c *gin.Context, code int, d linkData) {
	// The token is in the address: no other site may learn it from a link
	// on this page.
	c.Header("Referrer-Policy", "no-referrer")
	if s.oidc != nil && d.Kind == store.LinkInvite {
		d.OIDC = s.oidcName()
	}
	p := s.newPage(c, linkTitle(d.Kind), d)
	s.render(c, code, "link", p)
}

func (s *Server) useLink(kind store.LinkKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, ok := s.linkToken(c)
		if !ok {
			return
		}
		ctx := c.Request.Context()
		hashed := auth.HashToken(token)
		l, err := s.store.PeekLink(ctx, hashed, kind)
		if err != nil {
			s.failWith(c, err)
			return
		}
		// Tokens cannot be guessed; the limit bounds the hashing work.
		if _, ok, wait := s.throttles.signup.Take(clientIP(c)); !ok {
			s.fail(c, http.StatusTooManyRequests, "Too many tries", "Try again in "+waitText(wait)+".")
			return
		}
		d := linkData{Kind: kind, User: l.User, Email: c.PostForm("email"), Name: c.PostForm("name")}
		if len(d.Email) > auth.MaxEmail {
			d.Email = d.Email[:auth.MaxEmail]
		}
		if len(d.Name) > 200 {
			d.Name = d.Name[:200]
		}
		account := store.NewAccount{Name: d.Name}
		if kind == store.LinkSetup {
			email, err := auth.NormalizeEmail(d.Email)
			if err != nil {
				d.Error = capitalize(err.Error()) + "."
				s.renderLink(c, http.StatusBadRequest, d)
				return
			}
			account.Email = strings.ToLower(email)
		}
		if c.PostForm("password") != c.PostForm("confirm") {
			d.Error = "The password and its confirmation differ."
			s.renderLink(c, http.StatusBadRequest, d)
			return
		}
		hash, err := auth.HashPassword(c.PostForm("password"))
		if err != nil {
			d.Error = capitalize(err.Error()) + "."
			s.renderLink(c, http.StatusBadRequest, d)
			return
		}
		u, err := s.store.UseLink(ctx, hashed, kind, hash, account)
		if errors.Is(err, store.ErrEmailTaken) {
			d.Error = "An account with this email already exists; choose another email for the admin."
			s.renderLink(c, http.StatusConflict, d)
			return
		}
		if err != nil {
			s.failWith(c, err)
			return
		}
		s.forgetUser(u.ID)
		s.logger.InfoContext(ctx, "one-time link used", slog.String("kind", string(kind)), slog.Int64("user", u.ID), slog.String("role", string(u.Role)))
		if err := s.startSession(c, u); err != nil {
			s.internal(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	}
}
