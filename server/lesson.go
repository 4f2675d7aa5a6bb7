package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"coldstart/content"
)

type lessonData struct {
	Lesson   *content.Lesson
	Parts    []template.HTML
	Done     bool
	Exercise *content.Exercise
	// QuizState is the user's previous answers, as JSON for the script.
	QuizState template.JS
}

func (s *Server) lesson(c *gin.Context) {
	slug := c.Param("slug")
	// Lessons link to each other as "<slug>.md" in their source.
	if strings.HasSuffix(slug, ".md") {
		c.Redirect(http.StatusMovedPermanently, "/lessons/"+strings.TrimSuffix(slug, ".md"))
		return
	}
	course := s.course.Course()
	ix := s.index.get(course)
	l := ix.lessons[slug]
	if l == nil {
		s.fail(c, http.StatusNotFound, "No such lesson", "There is no lesson at this address. The course home lists every lesson.")
		return
	}
	prog, ok := s.progressOf(c)
	if !ok {
		return
	}
	_, done := prog.Lessons[slug]
	d := lessonData{Lesson: l, Parts: ix.parts[slug], Done: done, Exercise: ix.lessonExercise[slug]}
	if len(l.Quizzes) > 0 && len(prog.Quizzes) > 0 {
		state := map[string]any{}
		for _, q := range l.Quizzes {
			if a, ok := prog.Quizzes[q.ID]; ok {
				state[q.ID] = map[string]any{"choices": a.Choices, "correct": a.Correct}
			}
		}
		if len(state) > 0 {
			b, _ := json.Marshal(state)
			d.QuizState = template.JS(b)
		}
	}
	p := s.newPage(c, l.Title, d)
	if p.CourseErr != "" || p.Flash != "" {
		s.render(c, http.StatusOK, "lesson", p)
		return
	}
	s.renderLessonCached(c, ix, p, d)
}

// renderLessonCached writes a lesson page from the page cache, rendering
// and caching it first when needed.
func (s *Server) renderLessonCached(c *gin.Context, ix *courseIndex, p *page, d lessonData) {
	u := p.User
	key := lessonKey{slug: d.Lesson.Slug, signedIn: u != nil, done: d.Done, signup: p.SignupOpen}
	if u != nil {
		key.canTeach = u.Role.CanTeach()
	}
	values := [slotCount]string{slotCSRF: p.CSRF, slotQuiz: "{}"}
	if u != nil {
		values[slotEmail] = escapeText(u.Email)
	}
	if d.QuizState != "" {
		values[slotQuiz] = string(d.QuizState)
	}
	sp := ix.pages.get(key)
	if sp == nil {
		marked := *p
		marked.CSRF = slotMarks[slotCSRF]
		if u != nil {
			mu := *u
			mu.Email = slotMarks[slotEmail]
			marked.User = &mu
		}
		md := d
		md.QuizState = template.JS(slotMarks[slotQuiz])
		marked.Data = md
		buf := new(bytes.Buffer)
		if err := s.views.pages["lesson"].ExecuteTemplate(buf, "layout", &marked); err != nil {
			s.internal(c, fmt.Errorf("render lesson %s: %w", d.Lesson.Slug, err))
			return
		}
		sp = splice(buf.Bytes())
		ix.pages.put(key, sp)
	}
	if u == nil && values == visitorValues {
		s.serveVisitorPage(c, sp)
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	sp.write(buf, &values)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

func (s *Server) completeLesson(c *gin.Context) {
	slug := c.Param("slug")
	if s.index.get(s.course.Course()).lessons[slug] == nil {
		s.fail(c, http.StatusNotFound, "No such lesson", "There is no lesson at this address.")
		return
	}
	done := c.PostForm("done") != "0"
	u := currentUser(c)
	if err := s.store.SetLessonComplete(c.Request.Context(), u.ID, slug, done); err != nil {
		s.internal(c, err)
		return
	}
	s.progress.forget(u.ID)
	if wantsJSON(c) {
		c.JSON(http.StatusOK, gin.H{"done": done})
		return
	}
	c.Redirect(http.StatusSeeOther, "/lessons/"+slug)
}
