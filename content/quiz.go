package content

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
	yaml "go.yaml.in/yaml/v3"
)

var kindQuiz = ast.NewNodeKind("Quiz")

// quizNode is a ```quiz fenced block, parsed.
type quizNode struct {
	ast.BaseBlock
	Quiz    *Quiz
	LocalID string // the id inside the lesson
}

func (n *quizNode) Kind() ast.NodeKind { return kindQuiz }

func (n *quizNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"ID": n.Quiz.ID}, nil)
}

// maxChoices bounds a quiz: more would not be a quiz anyone answers.
const maxChoices = 12

// quiz parses a ```quiz block and puts a quizNode in its place. A block that
// cannot be read is reported and left out of the page.
func (st *renderState) quiz(fb *ast.FencedCodeBlock, src []byte) {
	var body strings.Builder
	lines := fb.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		body.Write(seg.Value(src))
	}
	// The block's YAML starts on the line after the opening fence.
	fence := st.lines.nodeLine(fb)
	if lines.Len() > 0 {
		fence = st.lines.line(lines.At(0).Start) - 1
	} else if fb.Info != nil {
		fence = st.lines.line(fb.Info.Segment.Start)
	}
	parent := fb.Parent()
	n := len(st.quizzes) + 1
	q, local := st.parseQuiz(fence, body.String(), n)
	if q == nil {
		parent.RemoveChild(parent, fb)
		return
	}
	st.quizzes = append(st.quizzes, q)
	parent.ReplaceChild(parent, fb, &quizNode{Quiz: q, LocalID: local})
}

// parseQuiz reads the YAML of the n-th quiz of a page; its opening fence is
// on file line fence.
func (st *renderState) parseQuiz(fence int, body string, n int) (*Quiz, string) {
	if st.slug == "" {
		st.p.add(st.file, fence, "quiz blocks belong in lessons")
		return nil, ""
	}
	m := parseYAML(st.file, fence, []byte(body), "quiz block", st.p)
	if m == nil {
		return nil, ""
	}
	f := fields{file: st.file, base: fence, p: st.p}
	local := fmt.Sprintf("q%d", n)
	q := &Quiz{}
	ok := true
	var choicesLine int
	haveQuestion := false
	for _, e := range f.entries(m) {
		switch e.Key {
		case "id":
			s, good := f.text(e)
			switch {
			case !good:
				ok = false
			case !slugPattern.MatchString(s):
				f.problem(e.Value, "the quiz id %q must be lower-case letters, digits and dashes", s)
				ok = false
			default:
				local = s
			}
		case "question":
			s, good := f.text(e)
			if good && strings.TrimSpace(s) == "" {
				f.problem(e.Value, "the question is empty")
				good = false
			}
			if good {
				q.Question = s
				var links []linkRef
				q.QuestionHTML, links = renderInline(st.file, e.Line, s, st.p)
				st.links = append(st.links, links...)
			}
			haveQuestion, ok = good, ok && good
		case "choices":
			choicesLine = e.Line
			items, good := f.list(e)
			if !good {
				ok = false
				continue
			}
			for _, item := range items {
				c, good := st.parseChoice(f, item)
				if !good {
					ok = false
					continue
				}
				q.Choices = append(q.Choices, c)
			}
		default:
			f.unknown(e, "id", "question", "choices")
			ok = false
		}
	}
	if !haveQuestion && ok {
		st.p.add(st.file, fence, "the quiz has no question")
		ok = false
	}
	if choicesLine == 0 {
		st.p.add(st.file, fence, "the quiz has no choices")
		return nil, ""
	}
	if !ok {
		return nil, ""
	}
	correct := 0
	for _, c := range q.Choices {
		if c.Correct {
			correct++
		}
	}
	switch {
	case len(q.Choices) < 2:
		st.p.add(st.file, choicesLine, "a quiz needs at least 2 choices, this one has %d", len(q.Choices))
		return nil, ""
	case len(q.Choices) > maxChoices:
		st.p.add(st.file, choicesLine, "a quiz may have at most %d choices, this one has %d", maxChoices, len(q.Choices))
		return nil, ""
	case correct == 0:
		st.p.add(st.file, choicesLine, "no choice is marked correct: true")
		return nil, ""
	}
	for _, prev := range st.quizzes {
		if prev.ID == st.slug+"/"+local {
			st.p.add(st.file, fence, "two quizzes have the id %q; give each an id: line of its own", local)
			return nil, ""
		}
	}
	q.ID = st.slug + "/" + local
	q.Multiple = correct > 1
	return q, local
}

func (st *renderState) parseChoice(f fields, n *yaml.Node) (Choice, bool) {
	if n.Kind != yaml.MappingNode {
		f.problem(n, "each choice must have text:, explanation: and, when right, correct: true")
		return Choice{}, false
	}
	var c Choice
	ok := true
	haveText, haveWhy := false, false
	for _, e := range f.entries(n) {
		switch e.Key {
		case "text":
			s, good := f.text(e)
			if good {
				c.Text, haveText = s, true
				var links []linkRef
				c.HTML, links = renderInline(st.file, e.Line, s, st.p)
				st.links = append(st.links, links...)
			}
			ok = ok && good
		case "correct":
			b, good := f.boolean(e)
			c.Correct, ok = b, ok && good
		case "explanation":
			s, good := f.text(e)
			if good && strings.TrimSpace(s) != "" {
				c.Explanation, haveWhy = s, true
				var links []linkRef
				c.ExplanationHTML, links = renderInline(st.file, e.Line, s, st.p)
				st.links = append(st.links, links...)
			}
			ok = ok && good
		default:
			f.unknown(e, "text", "correct", "explanation")
			ok = false
		}
	}
	if !haveText {
		f.problem(n, "this choice has no text")
		ok = false
	}
	if haveText && !haveWhy {
		f.problem(n, "the choice %q has no explanation; every choice says why it is right or wrong", c.Text)
		ok = false
	}
	return c, ok
}

// renderQuiz writes a quiz as a form the page can post. The explanations
// stay out of the page: the server sends them back with the verdict.
func renderQuiz(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*quizNode)
	q := n.Quiz
	esc := template.HTMLEscapeString
	input := "radio"
	if q.Multiple {
		input = "checkbox"
	}
	fmt.Fprintf(w, "<form class=\"quiz\" id=\"quiz-%s\" data-quiz=\"%s\" method=\"post\" action=\"/quiz/%s\">\n",
		esc(n.LocalID), esc(q.ID), esc(q.ID))
	fmt.Fprintf(w, "<fieldset>\n<legend>%s</legend>\n", q.QuestionHTML)
	if q.Multiple {
		w.WriteString("<p class=\"quiz-hint\">Select every right answer.</p>\n")
	}
	for i, c := range q.Choices {
		fmt.Fprintf(w, "<label><input type=\"%s\" name=\"choice\" value=\"%d\"> %s</label>\n", input, i, c.HTML)
	}
	w.WriteString("</fieldset>\n<button type=\"submit\">Check answer</button>\n<div class=\"quiz-feedback\" aria-live=\"polite\"></div>\n</form>\n")
	return ast.WalkSkipChildren, nil
}
