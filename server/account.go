package server

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"coldstart/server/auth"
)

type accountData struct {
	Error string
	Done  string
}

// accountPage lets a signed-in user change their password or sign out on
// every device.
func (s *Server) accountPage(c *gin.Context) {
	d := accountData{}
	switch c.Query("done") {
	case "password":
		d.Done = "Your password was changed. Your other sessions were signed out."
	}
	s.renderAccount(c, http.StatusOK, d)
}

func (s *Server) renderAccount(c *gin.Context, code int, d accountData) {
	p := s.newPage(c, "Your account", d)
	p.Nav = "account"
	s.render(c, code, "account", p)
}

// changePassword needs the current password, so that a session left open
// on a shared machine cannot take the account over.
func (s *Server) changePassword(c *gin.Context) {
	u := currentUser(c)
	current, next := c.PostForm("current"), c.PostForm("password")
	pair := "password\x00" + u.Email + "\x00" + clientIP(c)
	if _, ok, wait := s.throttles.signinPair.Take(pair); !ok {
		s.renderAccount(c, http.StatusTooManyRequests, accountData{Error: "Too many wrong passwords. Try again in " + waitText(wait) + "."})
		return
	}
	if !auth.VerifyPassword(u.PasswordHash, current) {
		s.renderAccount(c, http.StatusUnauthorized, accountData{Error: "Your current password is not right."})
		return
	}
	if next != c.PostForm("confirm") {
		s.renderAccount(c, http.StatusBadRequest, accountData{Error: "The new password and its confirmation differ."})
		return
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		s.renderAccount(c, http.StatusBadRequest, accountData{Error: capitalize(err.Error()) + "."})
		return
	}
	s.throttles.signinPair.Forget(pair)
	if err := s.store.ChangePassword(c.Request.Context(), u.ID, hash, auth.HashToken(sessionToken(c))); err != nil {
		s.failWith(c, err)
		return
	}
	s.forgetUser(u.ID)
	s.logger.InfoContext(c.Request.Context(), "password changed", slog.Int64("user", u.ID))
	c.Redirect(http.StatusSeeOther, "/account?done=password")
}

// signOutEverywhere ends every session of the account, this one included.
func (s *Server) signOutEverywhere(c *gin.Context) {
	u := currentUser(c)
	if err := s.store.SignOutEverywhere(c.Request.Context(), u.ID); err != nil {
		s.failWith(c, err)
		return
	}
	s.forgetUser(u.ID)
	s.setCookie(c, sessionCookie, "", -1)
	s.logger.InfoContext(c.Request.Context(), "signed out everywhere", slog.Int64("user", u.ID))
	c.Redirect(http.StatusSeeOther, "/signin?everywhere=1")
}
