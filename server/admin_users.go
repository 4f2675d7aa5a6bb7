package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"coldstart/server/auth"
	"coldstart/server/store"
)

type adminUsersData struct {
	Users   []*store.User
	Groups  []*store.Group
	GroupOf map[int64]string
	Filter  store.UserFilter
	Roles   []string
	// Link is a one-time link just made, shown once to hand over.
	Link     string
	LinkFor  string
	LinkKind string
	Error    string
}

var allRoles = []string{string(store.RoleStudent), string(store.RoleInstructor), string(store.RoleAdmin)}

// adminUsers lists accounts with search and filters, and the invitation form.
func (s *Server) adminUsers(c *gin.Context) {
	s.renderAdminUsers(c, http.StatusOK, adminUsersData{})
}

func (s *Server) renderAdminUsers(c *gin.Context, code int, d adminUsersData) {
	ctx := c.Request.Context()
	d.Filter = store.UserFilter{Query: c.Query("q"), Role: store.Role(c.Query("role")), Status: c.Query("status")}
	if len(d.Filter.Query) > 200 {
		d.Filter.Query = d.Filter.Query[:200]
	}
	if d.Filter.Role != "" && !d.Filter.Role.Valid() {
		d.Filter.Role = ""
	}
	if g := c.Query("group"); g != "" {
		d.Filter.GroupID, _ = strconv.ParseInt(g, 10, 64)
	}
	users, err := s.store.FindUsers(ctx, d.Filter)
	if err != nil {
		s.failWith(c, err)
		return
	}
	groups, err := s.store.Groups(ctx)
	if err != nil {
		s.failWith(c, err)
		return
	}
	d.Users, d.Groups, d.Roles = users, groups, allRoles
	d.GroupOf = map[int64]string{}
	for _, g := range groups {
		d.GroupOf[g.ID] = g.Name
	}
	p := s.newPage(c, "Accounts", d)
	p.Nav = "cohort"
	if d.Link != "" {
		c.Header("Referrer-Policy", "no-referrer")
	}
	s.render(c, code, "admin_users", p)
}

// inviteUser creates an account and shows its invitation link once.
func (s *Server) inviteUser(c *gin.Context) {
	ctx := c.Request.Context()
	email, err := auth.NormalizeEmail(c.PostForm("email"))
	if err != nil {
		s.renderAdminUsers(c, http.StatusBadRequest, adminUsersData{Error: capitalize(err.Error()) + "."})
		return
	}
	role := store.Role(c.DefaultPostForm("role", string(store.RoleStudent)))
	if !role.Valid() {
		s.renderAdminUsers(c, http.StatusBadRequest, adminUsersData{Error: "A role is student, instructor or admin."})
		return
	}
	a := store.NewAccount{Email: strings.ToLower(email), Name: strings.TrimSpace(c.PostForm("name")), Role: role}
	if len(a.Name) > 200 {
		a.Name = a.Name[:200]
	}
	if g := c.PostForm("group"); g != "" {
		if a.GroupID, err = strconv.ParseInt(g, 10, 64); err != nil {
			s.renderAdminUsers(c, http.StatusBadRequest, adminUsersData{Error: "Choose a group from the list."})
			return
		}
	}
	token := auth.NewToken()
	u, err := s.store.Invite(ctx, store.ActorOf(currentUser(c)), a, auth.HashToken(token))
	if err != nil {
		if e := appError(err); e != nil && e.Code != EInternal {
			s.renderAdminUsers(c, errorStatus[e.Code], adminUsersData{Error: e.Message})
			return
		}
		s.failWith(c, err)
		return
	}
	s.logger.InfoContext(ctx, "account invited", slog.Int64("user", u.ID), slog.String("role", string(u.Role)), slog.Int64("by", currentUser(c).ID))
	s.renderAdminUsers(c, http.StatusOK, adminUsersData{Link: s.linkURL(c, store.LinkInvite, token), LinkFor: u.Email, LinkKind: "invitation"})
}

func (s *Server) targetUser(c *gin.Context) (*store.User, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.failWith(c, store.ErrNotFound)
		return nil, false
	}
	u, err := s.store.User(c.Request.Context(), id)
	if err != nil {
		s.failWith(c, err)
		return nil, false
	}
	return u, true
}

// setActive deactivates (ending the account's sessions at once) or
// reactivates an account.
func (s *Server) setActive(active bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := s.targetUser(c)
		if !ok {
			return
		}
		me := currentUser(c)
		if u.ID == me.ID && !active {
			s.failWith(c, errorf(EInvalid, "You would lock yourself out", "Admins cannot deactivate their own account; ask another admin."))
			return
		}
		if err := s.store.SetActive(c.Request.Context(), store.ActorOf(me), u.ID, active); err != nil {
			s.failWith(c, err)
			return
		}
		s.forgetUser(u.ID)
		s.logger.InfoContext(c.Request.Context(), "account changed", slog.Int64("user", u.ID), slog.Bool("active", active), slog.Int64("by", me.ID))
		c.Redirect(http.StatusSeeOther, "/admin/users")
	}
}

// resetLink makes a one-time password-reset link (or, for an account that
// never used its invitation, a new invitation) and shows it once.
func (s *Server) resetLink(c *gin.Context) {
	u, ok := s.targetUser(c)
	if !ok {
		return
	}
	token := auth.NewToken()
	by := store.ActorOf(currentUser(c))
	kind, what := store.LinkReset, "password reset"
	var err error
	if u.Invited() {
		kind, what = store.LinkInvite, "invitation"
		err = s.store.Reinvite(c.Request.Context(), by, u.ID, auth.HashToken(token))
	} else {
		err = s.store.ResetLink(c.Request.Context(), by, u.ID, auth.HashToken(token))
	}
	if err != nil {
		s.failWith(c, err)
		return
	}
	s.renderAdminUsers(c, http.StatusOK, adminUsersData{Link: s.linkURL(c, kind, token), LinkFor: u.Email, LinkKind: what})
}
