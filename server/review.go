package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/server/store"
)

type studentData struct {
	Student   *store.User
	Group     string
	Attempts  []store.Attempt
	Due       map[string]time.Time
	Exercises map[string]*content.Exercise
}

// studentPage lists one student's attempts for an instructor.
func (s *Server) studentPage(c *gin.Context) {
	u, ok := s.targetUser(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	attempts, err := s.store.Attempts(ctx, u.ID)
	if err != nil {
		s.failWith(c, err)
		return
	}
	due, err := s.store.DueDates(ctx, u.ID)
	if err != nil {
		s.failWith(c, err)
		return
	}
	d := studentData{Student: u, Attempts: attempts, Due: due, Exercises: map[string]*content.Exercise{}}
	if u.GroupID != 0 {
		if g, err := s.store.GroupByID(ctx, u.GroupID); err == nil {
			d.Group = g.Name
		}
	}
	for _, ex := range s.course.Course().Exercises {
		d.Exercises[ex.ID] = ex
	}
	p := s.newPage(c, u.Email, d)
	p.Nav = "cohort"
	s.render(c, http.StatusOK, "student", p)
}

type attemptData struct {
	Student  *store.User
	Sub      *store.Submission
	Exercise *content.Exercise
	Result   *grader.Result
	Late     bool
	Due      time.Time
}

// attemptPage shows one attempt read-only: what was sent and how it was
// graded, under a banner saying whose it is. It never opens the
// instructor's own editor, so nothing is submitted in the student's name.
func (s *Server) attemptPage(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.failWith(c, store.ErrNotFound)
		return
	}
	ctx := c.Request.Context()
	sub, err := s.store.Submission(ctx, id)
	if err != nil {
		s.failWith(c, err)
		return
	}
	u, err := s.store.User(ctx, sub.UserID)
	if err != nil {
		s.failWith(c, err)
		return
	}
	d := attemptData{Student: u, Sub: sub, Exercise: s.course.Course().Exercise(sub.Exercise)}
	if len(sub.Result) > 0 {
		var r grader.Result
		if json.Unmarshal(sub.Result, &r) == nil {
			d.Result = &r
		}
	}
	due, err := s.store.DueDates(ctx, u.ID)
	if err != nil {
		s.failWith(c, err)
		return
	}
	if t, ok := due[sub.Exercise]; ok {
		d.Due, d.Late = t, sub.CreatedAt.After(t)
	}
	p := s.newPage(c, "Attempt "+strconv.FormatInt(sub.ID, 10)+" by "+u.Email, d)
	p.Nav = "cohort"
	s.render(c, http.StatusOK, "attempt", p)
}
