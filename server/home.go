package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/server/store"
)

// bar is a progress bar: Done of Total.
type bar struct {
	Done, Total int
	Label       string
}

// Percent is the filled share of the bar, 0 to 100. The page shows it with
// one of the classes barWidthCSS defines, since the content security policy
// allows no inline style.
func (b bar) Percent() int {
	if b.Total <= 0 || b.Done <= 0 {
		return 0
	}
	return min(b.Done*100/b.Total, 100)
}

type exerciseScore struct {
	Exercise *content.Exercise
	Stats    store.ExerciseStats
}

type lessonRow struct {
	Lesson   *content.Lesson
	Done     bool
	Exercise *exerciseScore
}

type moduleView struct {
	ID, Title string
	Lessons   []lessonRow
	Bar       bar
}

type homeData struct {
	Modules  []moduleView
	Overall  bar
	Continue *content.Lesson
}

func (s *Server) home(c *gin.Context) {
	course := s.course.Course()
	if course == nil {
		s.fail(c, http.StatusServiceUnavailable, "The course is not loaded", "The course could not be loaded. The server log says why.")
		return
	}
	ix := s.index.get(course)
	prog, ok := s.progressOf(c)
	if !ok {
		return
	}
	d := homeData{}
	seen := map[string]bool{}
	for _, m := range course.Modules {
		mv := moduleView{ID: m.ID, Title: m.Title}
		for _, l := range m.Lessons {
			seen[l.Slug] = true
			mv.Lessons = append(mv.Lessons, s.lessonRow(ix, prog, l))
		}
		mv.Bar = moduleBar(mv)
		d.Modules = append(d.Modules, mv)
	}
	// Lessons outside any module still get listed.
	var rest []lessonRow
	for _, l := range course.Lessons {
		if !seen[l.Slug] {
			rest = append(rest, s.lessonRow(ix, prog, l))
		}
	}
	if len(rest) > 0 {
		mv := moduleView{ID: "more", Title: "More lessons", Lessons: rest}
		mv.Bar = moduleBar(mv)
		d.Modules = append(d.Modules, mv)
	}
	d.Overall = overall(course, prog)
	for _, l := range course.Lessons {
		if _, done := prog.Lessons[l.Slug]; !done {
			d.Continue = l
			break
		}
	}
	s.render(c, http.StatusOK, "home", s.withDue(c, s.newPage(c, "", d)))
}

func (s *Server) lessonRow(ix *courseIndex, prog *store.Progress, l *content.Lesson) lessonRow {
	_, done := prog.Lessons[l.Slug]
	row := lessonRow{Lesson: l, Done: done}
	if ex := ix.lessonExercise[l.Slug]; ex != nil {
		row.Exercise = &exerciseScore{Exercise: ex, Stats: prog.Exercises[ex.ID]}
	}
	return row
}

func moduleBar(m moduleView) bar {
	b := bar{Label: "Progress in " + m.Title}
	for _, l := range m.Lessons {
		b.Total++
		if l.Done {
			b.Done++
		}
		if l.Exercise != nil {
			b.Total++
			if l.Exercise.Stats.Passed {
				b.Done++
			}
		}
	}
	return b
}

// overall counts lessons read and exercises passed.
func overall(course *content.Course, prog *store.Progress) bar {
	b := bar{Label: "Progress in the whole course", Total: len(course.Lessons) + len(course.Exercises)}
	for _, l := range course.Lessons {
		if _, ok := prog.Lessons[l.Slug]; ok {
			b.Done++
		}
	}
	for _, ex := range course.Exercises {
		if prog.Exercises[ex.ID].Passed {
			b.Done++
		}
	}
	return b
}

// progressOf returns the signed-in user's progress, or an empty one for a
// visitor. On a store error it has already answered.
func (s *Server) progressOf(c *gin.Context) (*store.Progress, bool) {
	u := currentUser(c)
	if u == nil {
		return &store.Progress{Lessons: map[string]time.Time{}, Quizzes: map[string]store.QuizAnswer{}, Exercises: map[string]store.ExerciseStats{}}, true
	}
	p, err := s.userProgress(c.Request.Context(), u.ID)
	if err != nil {
		s.internal(c, err)
		return nil, false
	}
	return p, true
}
