package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/server/auth"
	"coldstart/server/store"
)

// Dates in forms are datetime-local values read as UTC; the pages say so.
const formDate = "2006-01-02T15:04"

func parseFormDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(formDate, v, time.UTC)
	if err != nil {
		t, err = time.ParseInLocation(formDate+":05", v, time.UTC) // browsers add seconds when set
	}
	if err != nil {
		if t, err = time.ParseInLocation("2006-01-02", v, time.UTC); err == nil {
			return t.Add(24*time.Hour - time.Minute), nil // a day means its end
		}
		return time.Time{}, errorf(EInvalid, "That date was not understood", "Write a date as 2026-05-01 or 2026-05-01T12:00 (UTC); "+strconv.Quote(v)+" is neither.")
	}
	return t, nil
}

type groupsData struct {
	Groups []*store.Group
	Base   string
}

// groupsPage lists the groups and their join links.
func (s *Server) groupsPage(c *gin.Context) {
	groups, err := s.store.Groups(c.Request.Context())
	if err != nil {
		s.failWith(c, err)
		return
	}
	p := s.newPage(c, "Groups", groupsData{Groups: groups, Base: s.baseURL(c)})
	p.Nav = "cohort"
	s.render(c, http.StatusOK, "groups", p)
}

// baseURL is the public address of this server (see linkURL).
func (s *Server) baseURL(c *gin.Context) string { return s.linkURL(c, "", "") }

func (s *Server) createGroup(c *gin.Context) {
	starts, err := parseFormDate(c.PostForm("starts"))
	if err != nil {
		s.failWith(c, err)
		return
	}
	g, err := s.store.CreateGroup(c.Request.Context(), store.ActorOf(currentUser(c)), c.PostForm("name"), auth.NewToken()[:22], starts)
	if err != nil {
		s.failWith(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/cohort/groups/"+strconv.FormatInt(g.ID, 10))
}

type groupData struct {
	Group     *store.Group
	JoinURL   string
	Exercises []*content.Exercise
	Due       map[string]time.Time
	Members   []*store.User
	Ext       map[int64]map[string]time.Time
}

func (s *Server) groupOf(c *gin.Context) (*store.Group, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.failWith(c, store.ErrNotFound)
		return nil, false
	}
	g, err := s.store.GroupByID(c.Request.Context(), id)
	if err != nil {
		s.failWith(c, err)
		return nil, false
	}
	return g, true
}

// groupPage shows a group: its join link, its due dates and its students
// with their extensions.
func (s *Server) groupPage(c *gin.Context) {
	g, ok := s.groupOf(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	due, err := s.store.Deadlines(ctx, g.ID)
	if err != nil {
		s.failWith(c, err)
		return
	}
	members, err := s.store.FindUsers(ctx, store.UserFilter{GroupID: g.ID})
	if err != nil {
		s.failWith(c, err)
		return
	}
	ext, err := s.store.Extensions(ctx, g.ID)
	if err != nil {
		s.failWith(c, err)
		return
	}
	d := groupData{Group: g, JoinURL: s.baseURL(c) + "/join/" + g.JoinToken, Exercises: s.course.Course().Exercises,
		Due: due, Members: members, Ext: ext}
	p := s.newPage(c, g.Name, d)
	p.Nav = "cohort"
	c.Header("Referrer-Policy", "no-referrer")
	s.render(c, http.StatusOK, "group", p)
}

// setDeadlines saves the due dates of every exercise for a group; an empty
// field removes the exercise's due date.
func (s *Server) setDeadlines(c *gin.Context) {
	g, ok := s.groupOf(c)
	if !ok {
		return
	}
	by := store.ActorOf(currentUser(c))
	old, err := s.store.Deadlines(c.Request.Context(), g.ID)
	if err != nil {
		s.failWith(c, err)
		return
	}
	for _, ex := range s.course.Course().Exercises {
		v, sent := c.GetPostForm("due." + ex.ID)
		if !sent {
			continue
		}
		due, err := parseFormDate(v)
		if err != nil {
			s.failWith(c, err)
			return
		}
		if prev, had := old[ex.ID]; due.Equal(prev) || (!had && due.IsZero()) {
			continue
		}
		if err := s.store.SetDeadline(c.Request.Context(), by, g.ID, ex.ID, due); err != nil {
			s.failWith(c, err)
			return
		}
	}
	c.Redirect(http.StatusSeeOther, "/cohort/groups/"+strconv.FormatInt(g.ID, 10))
}

// grantExtension gives one student a later due date for one exercise.
func (s *Server) grantExtension(c *gin.Context) {
	g, ok := s.groupOf(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.PostForm("user"), 10, 64)
	if err != nil {
		s.failWith(c, errorf(EInvalid, "No student chosen", "The form did not say which student the extension is for."))
		return
	}
	ex := c.PostForm("exercise")
	if s.course.Course().Exercise(ex) == nil {
		s.failWith(c, errorf(EInvalid, "No such exercise", "Choose an exercise of this course."))
		return
	}
	due, err := parseFormDate(c.PostForm("due"))
	if err != nil {
		s.failWith(c, err)
		return
	}
	u, err := s.store.User(c.Request.Context(), id)
	if err != nil || u.GroupID != g.ID {
		s.failWith(c, errorf(ENotFound, "Not in this group", "That student is not in this group."))
		return
	}
	if err := s.store.GrantExtension(c.Request.Context(), store.ActorOf(currentUser(c)), id, ex, due); err != nil {
		s.failWith(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/cohort/groups/"+strconv.FormatInt(g.ID, 10))
}

type joinData struct {
	Group *store.Group
	Token string
	Now   *store.Group // the group the user is in now, if another
}

func (s *Server) joinGroupOf(c *gin.Context) (*store.Group, bool) {
	t := c.Param("token")
	if len(t) == 0 || len(t) > 64 || !isToken(t) {
		s.failWith(c, errorf(ENotFound, "No such group", "This join link is not right: it may be mistyped. Ask your instructor for it again."))
		return nil, false
	}
	g, err := s.store.GroupByJoinToken(c.Request.Context(), t)
	if err != nil {
		s.failWith(c, errorf(ENotFound, "No such group", "This join link is not right: it may be mistyped. Ask your instructor for it again."))
		return nil, false
	}
	return g, true
}

// joinPage asks a signed-in user to confirm joining a group.
func (s *Server) joinPage(c *gin.Context) {
	g, ok := s.joinGroupOf(c)
	if !ok {
		return
	}
	d := joinData{Group: g, Token: c.Param("token")}
	if u := currentUser(c); u.GroupID != 0 && u.GroupID != g.ID {
		d.Now, _ = s.store.GroupByID(c.Request.Context(), u.GroupID)
	}
	c.Header("Referrer-Policy", "no-referrer")
	s.render(c, http.StatusOK, "join", s.newPage(c, "Join "+g.Name, d))
}

func (s *Server) joinGroup(c *gin.Context) {
	g, ok := s.joinGroupOf(c)
	if !ok {
		return
	}
	u := currentUser(c)
	if err := s.store.SetUserGroup(c.Request.Context(), store.ActorOf(u), u.ID, g.ID); err != nil {
		s.failWith(c, err)
		return
	}
	s.forgetUser(u.ID)
	s.logger.InfoContext(c.Request.Context(), "joined group", slog.Int64("user", u.ID), slog.Int64("group", g.ID))
	c.Redirect(http.StatusSeeOther, "/")
}

// withDue adds the signed-in user's due dates to a page that shows
// exercises; users in no group have none (extensions are granted to
// members of a group).
func (s *Server) withDue(c *gin.Context, p *page) *page {
	u := currentUser(c)
	if u == nil || u.GroupID == 0 {
		return p
	}
	due, err := s.store.DueDates(c.Request.Context(), u.ID)
	if err != nil {
		s.logger.ErrorContext(c.Request.Context(), "read due dates", slog.Any("err", err))
		return p
	}
	p.Due = due
	return p
}
