package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/server/store"
)

type progressRow struct {
	Lesson       *content.Lesson
	Done         bool
	Quizzes      int
	QuizzesRight int
	Exercise     *exerciseScore
}

type progressData struct {
	Other                           *store.User // set when an instructor looks at a student
	Overall                         bar
	Rows                            []progressRow
	LessonsDone, LessonsTotal       int
	QuizzesRight, QuizzesTotal      int
	ExercisesPassed, ExercisesTotal int
}

func (s *Server) progressPage(c *gin.Context) {
	me := currentUser(c)
	who := me
	var other *store.User
	if q := c.Query("user"); q != "" {
		id, err := strconv.ParseInt(q, 10, 64)
		if err != nil {
			s.fail(c, http.StatusNotFound, "No such account", "There is no account with this number.")
			return
		}
		if id != me.ID {
			// Students never see another account's progress, nor learn
			// whether it exists.
			if !me.Role.CanTeach() {
				s.fail(c, http.StatusNotFound, "No such account", "There is no account with this number.")
				return
			}
			u, err := s.store.User(c.Request.Context(), id)
			if errors.Is(err, store.ErrNotFound) {
				s.fail(c, http.StatusNotFound, "No such account", "There is no account with this number.")
				return
			}
			if err != nil {
				s.internal(c, err)
				return
			}
			who, other = u, u
		}
	}
	prog, err := s.userProgress(c.Request.Context(), who.ID)
	if err != nil {
		s.internal(c, err)
		return
	}
	course := s.course.Course()
	ix := s.index.get(course)
	d := progressData{Other: other, Overall: overall(course, prog), LessonsTotal: len(course.Lessons), ExercisesTotal: len(course.Exercises)}
	for _, l := range course.Lessons {
		_, done := prog.Lessons[l.Slug]
		row := progressRow{Lesson: l, Done: done, Quizzes: len(l.Quizzes)}
		for _, q := range l.Quizzes {
			if prog.Quizzes[q.ID].Correct {
				row.QuizzesRight++
			}
		}
		if ex := ix.lessonExercise[l.Slug]; ex != nil {
			row.Exercise = &exerciseScore{Exercise: ex, Stats: prog.Exercises[ex.ID]}
		}
		if done {
			d.LessonsDone++
		}
		d.QuizzesTotal += row.Quizzes
		d.QuizzesRight += row.QuizzesRight
		d.Rows = append(d.Rows, row)
	}
	for _, ex := range course.Exercises {
		if prog.Exercises[ex.ID].Passed {
			d.ExercisesPassed++
		}
	}
	title := "My progress"
	if other != nil {
		title = "Progress of " + other.Email
	}
	p := s.newPage(c, title, d)
	p.Nav = "progress"
	s.render(c, http.StatusOK, "progress", p)
}
