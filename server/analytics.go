package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/server/store"
)

type analyticsRow struct {
	Exercise *content.Exercise
	Stats    store.ExerciseAnalytics
}

type quizRow struct {
	Miss   store.QuizMiss
	Lesson *content.Lesson
	Text   string
}

type analyticsData struct {
	Exercises []analyticsRow
	Quizzes   []quizRow
}

// analyticsPage shows instructors how each exercise goes and which quiz
// questions are missed most at the first try.
func (s *Server) analyticsPage(c *gin.Context) {
	stats, misses, err := s.store.Analytics(c.Request.Context())
	if err != nil {
		s.failWith(c, err)
		return
	}
	course := s.course.Course()
	d := analyticsData{}
	for _, ex := range course.Exercises {
		r := analyticsRow{Exercise: ex, Stats: store.ExerciseAnalytics{Exercise: ex.ID}}
		if st := stats[ex.ID]; st != nil {
			r.Stats = *st
		}
		d.Exercises = append(d.Exercises, r)
	}
	for _, m := range misses {
		q := course.Quiz(m.Quiz)
		if q == nil {
			continue // a question no longer in the course
		}
		r := quizRow{Miss: m, Text: q.Question}
		for _, l := range course.Lessons {
			for _, lq := range l.Quizzes {
				if lq == q {
					r.Lesson = l
				}
			}
		}
		d.Quizzes = append(d.Quizzes, r)
	}
	p := s.newPage(c, "Analytics", d)
	p.Nav = "cohort"
	s.render(c, http.StatusOK, "analytics", p)
}
