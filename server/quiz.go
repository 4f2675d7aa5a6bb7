package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"coldstart/content"
)

type quizData struct {
	Quiz   *content.Quiz
	Lesson *content.Lesson
	Result content.QuizResult
}

type choiceJSON struct {
	Index       int    `json:"index"`
	Selected    bool   `json:"selected"`
	Correct     bool   `json:"correct"`
	Explanation string `json:"explanation,omitempty"`
}

// answerQuiz grades an inline quiz answer, records it for a signed-in user,
// and answers JSON for the page's script or a feedback page without it.
func (s *Server) answerQuiz(c *gin.Context) {
	id := strings.TrimPrefix(c.Param("id"), "/")
	ix := s.index.get(s.course.Course())
	q := ix.quizzes[id]
	if q == nil {
		s.fail(c, http.StatusNotFound, "No such question", "This quiz is not part of the course (any more). Reload the lesson.")
		return
	}
	values := c.Request.PostForm["choice"]
	if len(values) == 0 {
		s.fail(c, http.StatusBadRequest, "No answer chosen", "Choose an answer, then press the button.")
		return
	}
	if len(values) > len(q.Choices) || (!q.Multiple && len(values) > 1) {
		s.fail(c, http.StatusBadRequest, "Too many answers", "This question takes "+map[bool]string{true: "one or more answers", false: "one answer"}[q.Multiple]+".")
		return
	}
	var selected []int
	seen := map[int]bool{}
	for _, v := range values {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= len(q.Choices) {
			s.fail(c, http.StatusBadRequest, "Unknown answer", "The answer sent is not one of this question's choices. Reload the lesson and try again.")
			return
		}
		if !seen[i] {
			seen[i] = true
			selected = append(selected, i)
		}
	}
	res := q.Grade(selected)
	note := "Sign in to have your answers recorded."
	if u := currentUser(c); u != nil {
		if err := s.store.RecordQuiz(c.Request.Context(), u.ID, q.ID, selected, res.Correct); err != nil {
			s.internal(c, err)
			return
		}
		s.progress.forget(u.ID)
		note = ""
	}
	if wantsJSON(c) {
		out := make([]choiceJSON, len(res.Choices))
		for i, ch := range res.Choices {
			out[i] = choiceJSON{Index: ch.Index, Selected: ch.Selected, Correct: ch.Correct, Explanation: string(ch.ExplanationHTML)}
		}
		c.JSON(http.StatusOK, gin.H{"quiz": q.ID, "correct": res.Correct, "choices": out, "recorded": note == "", "note": note})
		return
	}
	s.render(c, http.StatusOK, "quiz", s.newPage(c, "Your answer", quizData{Quiz: q, Lesson: ix.quizLesson[q.ID], Result: res}))
}
