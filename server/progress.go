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
	QuizzesFirst int // right at the first try
	Exercise     *exerciseScore
}

type progressData struct {
	Other                           *store.User // set when an instructor looks at a student
	Overall                         bar
	Rows                            []progressRow
	LessonsDone, LessonsTotal       int
	QuizzesRight, QuizzesTotal      int
	QuizzesFirst                    int
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
			a := prog.Quizzes[q.ID]
			if a.EverCorrect {
				row.QuizzesRight++
			}
			if a.FirstCorrect {
				row.QuizzesFirst++
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
		d.QuizzesFirst += row.QuizzesFirst
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
	// An instructor looking at a student came from the cohort page; the
	// nav says so rather than "My progress".
	p.Nav = "progress"
	if other != nil {
		p.Nav = "cohort"
	}
	s.render(c, http.StatusOK, "progress", p)
}
