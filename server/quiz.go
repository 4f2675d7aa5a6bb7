package server

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"coldstart/content"
)

// revealAfter is the number of tries after which a quiz shows the
// explanation of every choice even if no answer was right.
const revealAfter = 3

type quizData struct {
	Quiz   *content.Quiz
	Lesson *content.Lesson
	Anchor string // the id of the quiz's form in the lesson
	quizFeedback
}

// quizFeedback is what a student sees after an answer. Until the answer is
// right or the tries are used up, it marks only the student's own wrong
// choices and explains those: it never points at the right choice.
type quizFeedback struct {
	Correct  bool
	Revealed bool
	Tries    int
	Message  string
	Later    string // when the explanations will show, until they do
	Choices  []choiceJSON
}

type choiceJSON struct {
	Index       int           `json:"index"`
	Selected    bool          `json:"selected"`
	Correct     bool          `json:"correct,omitempty"`
	Wrong       bool          `json:"wrong,omitempty"`
	Explanation template.HTML `json:"explanation,omitempty"`
	Text        template.HTML `json:"-"`
}

func feedback(q *content.Quiz, res content.QuizResult, tries int) quizFeedback {
	f := quizFeedback{Correct: res.Correct, Revealed: res.Correct || tries >= revealAfter, Tries: tries}
	wrongPicked := false
	for _, ch := range res.Choices {
		cj := choiceJSON{Index: ch.Index, Selected: ch.Selected, Text: q.Choices[ch.Index].HTML}
		switch {
		case f.Revealed:
			cj.Correct, cj.Wrong, cj.Explanation = ch.Correct, ch.Selected && !ch.Correct, ch.ExplanationHTML
		case ch.Selected && !ch.Correct:
			// The student's own wrong choice, and why it is wrong: the hint.
			cj.Wrong, cj.Explanation = true, ch.ExplanationHTML
			wrongPicked = true
		}
		f.Choices = append(f.Choices, cj)
	}
	switch {
	case f.Correct:
		f.Message = "Right!"
		if tries == 1 {
			f.Message = "Right at the first try!"
		}
	case f.Revealed:
		f.Message = fmt.Sprintf("Not quite. After %d tries, here is every choice explained; the right ones are marked.", tries)
	case wrongPicked:
		f.Message = "Not quite. The note under your choice says why; try again."
	default:
		f.Message = "Not quite. What you chose holds, but it is not the whole answer; try again."
	}
	if !f.Revealed {
		f.Later = fmt.Sprintf("Every choice is explained after the right answer or after %d tries (%s so far).", revealAfter, triesText(tries))
	}
	return f
}

func triesText(n int) string {
	if n == 1 {
		return "1 try"
	}
	return fmt.Sprintf("%d tries", n)
}

// visitorTries is the count of tries a visitor's page keeps (the "try"
// field); nothing is recorded for a visitor, so it only decides when the
// explanations show.
func visitorTries(c *gin.Context) int {
	n, err := strconv.Atoi(c.PostForm("try"))
	if err != nil || n < 1 {
		return 1
	}
	return min(n, revealAfter)
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
	tries := visitorTries(c)
	if u := currentUser(c); u != nil {
		a, err := s.store.RecordQuiz(c.Request.Context(), u.ID, q.ID, selected, res.Correct)
		if err != nil {
			s.internal(c, err)
			return
		}
		s.progress.forget(u.ID)
		note, tries = "", a.Tries
	}
	f := feedback(q, res, tries)
	if wantsJSON(c) {
		c.JSON(http.StatusOK, gin.H{"quiz": q.ID, "correct": f.Correct, "revealed": f.Revealed, "tries": f.Tries,
			"message": f.Message, "later": f.Later, "choices": f.Choices, "recorded": note == "", "note": note})
		return
	}
	l := ix.quizLesson[q.ID]
	d := quizData{Quiz: q, Lesson: l, Anchor: "quiz-" + strings.TrimPrefix(q.ID, l.Slug+"/"), quizFeedback: f}
	s.render(c, http.StatusOK, "quiz", s.newPage(c, "Your answer", d))
}
