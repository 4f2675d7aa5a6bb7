package server

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/server/store"
)

type cohortRow struct {
	User         *store.User
	Lessons      bar
	QuizzesRight int
	Scores       []store.ExerciseStats // in the order of cohortData.Exercises
}

type cohortData struct {
	Exercises   []*content.Exercise
	Rows        []cohortRow
	CanSetRoles bool
	Roles       []string
}

// cohort shows every account's progress and best scores to instructors.
func (s *Server) cohort(c *gin.Context) {
	ctx := c.Request.Context()
	users, err := s.store.Users(ctx)
	if err != nil {
		s.internal(c, err)
		return
	}
	all, err := s.store.CohortProgress(ctx)
	if err != nil {
		s.internal(c, err)
		return
	}
	course := s.course.Course()
	d := cohortData{Exercises: course.Exercises, CanSetRoles: currentUser(c).Role == store.RoleAdmin,
		Roles: []string{string(store.RoleStudent), string(store.RoleInstructor), string(store.RoleAdmin)}}
	for _, u := range users {
		p := all[u.ID]
		if p == nil {
			p = &store.Progress{}
		}
		row := cohortRow{User: u, Lessons: bar{Total: len(course.Lessons), Label: "Lessons read by " + u.Email}}
		for _, l := range course.Lessons {
			if _, ok := p.Lessons[l.Slug]; ok {
				row.Lessons.Done++
			}
		}
		for _, a := range p.Quizzes {
			if a.Correct {
				row.QuizzesRight++
			}
		}
		for _, ex := range course.Exercises {
			row.Scores = append(row.Scores, p.Exercises[ex.ID])
		}
		d.Rows = append(d.Rows, row)
	}
	p := s.newPage(c, "Cohort", d)
	p.Nav = "cohort"
	s.render(c, http.StatusOK, "cohort", p)
}

// setRole lets an admin change an account's role.
func (s *Server) setRole(c *gin.Context) {
	id, err := strconv.ParseInt(c.PostForm("user"), 10, 64)
	if err != nil {
		s.fail(c, http.StatusBadRequest, "No account chosen", "The form did not say which account to change.")
		return
	}
	role := store.Role(c.PostForm("role"))
	if !role.Valid() {
		s.fail(c, http.StatusBadRequest, "Unknown role", "A role is student, instructor or admin.")
		return
	}
	me := currentUser(c)
	if id == me.ID && role != store.RoleAdmin {
		s.fail(c, http.StatusBadRequest, "You would lock yourself out", "Admins cannot take away their own admin role; ask another admin.")
		return
	}
	if err := s.store.ChangeRole(c.Request.Context(), store.ActorOf(me), id, role); err != nil {
		s.failWith(c, err)
		return
	}
	s.forgetUser(id)
	s.logger.InfoContext(c.Request.Context(), "role changed", slog.Int64("user", id), slog.String("role", string(role)), slog.Int64("by", me.ID))
	if c.PostForm("back") == "admin" {
		c.Redirect(http.StatusSeeOther, "/admin/users")
		return
	}
	c.Redirect(http.StatusSeeOther, "/cohort")
}
