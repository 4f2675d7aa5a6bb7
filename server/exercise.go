package server

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// historyLimit bounds the attempts listed on an exercise page.
const historyLimit = 20

type exerciseData struct {
	Exercise *content.Exercise
	Lesson   *content.Lesson
	Variant  *grader.Variant
	Table    *tableView
	Body     string
	resultArea
}

// resultArea is the part of the exercise page that changes after a
// grading: the shown result, the attempts and the student's standing (the
// page's script moves the standing into the header badge).
type resultArea struct {
	Shown   *resultView
	History []historyRow
	Stats   store.ExerciseStats
}

type historyRow struct {
	Sub     *store.Submission
	Current bool
}

// seedFor is the variant seed of a user for an exercise: stable, so the
// student sees the same scenario on every visit, and different per student.
func seedFor(userID int64, exercise string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", userID, exercise)
	return int64(h.Sum64() & 0x7fffffff)
}

func (s *Server) exercise(c *gin.Context) {
	id := c.Param("id")
	ix := s.index.get(s.course.Course())
	ex := ix.exercises[id]
	if ex == nil {
		s.fail(c, http.StatusNotFound, "No such exercise", "There is no exercise at this address. The course home lists every exercise.")
		return
	}
	d := exerciseData{Exercise: ex, Lesson: ix.lessons[ex.Lesson], Body: ex.Starter}
	// A kind answered on a form gets its grid; one whose form cannot be
	// built from the scenario falls back to the editor.
	if f, err := s.grader.Form(grading.SpecOf(ex)); err != nil {
		s.logger.WarnContext(c.Request.Context(), "form exercise shown as text", slog.String("exercise", ex.ID), slog.Any("err", err))
	} else if f != nil {
		d.Table = newTableView(f)
	}
	u := currentUser(c)
	if u != nil {
		ctx := c.Request.Context()
		v, err := s.grader.Variant(grading.SpecOf(ex), seedFor(u.ID, ex.ID))
		if err == nil {
			d.Variant = v
		}
		subs, err := s.store.Submissions(ctx, u.ID, ex.ID, historyLimit)
		if err != nil {
			s.internal(c, err)
			return
		}
		prog, ok := s.progressOf(c)
		if !ok {
			return
		}
		d.Stats = prog.Exercises[ex.ID]
		var shown *store.Submission
		if q := c.Query("s"); q != "" {
			n, err := strconv.ParseInt(q, 10, 64)
			if err != nil {
				s.fail(c, http.StatusBadRequest, "Unknown attempt", "The attempt number in the address is not a number.")
				return
			}
			shown, err = s.ownSubmission(c, n)
			if err != nil {
				return
			}
			if shown.Exercise != ex.ID {
				s.fail(c, http.StatusNotFound, "No such attempt", "This attempt belongs to another exercise.")
				return
			}
		} else if len(subs) > 0 {
			shown = subs[0]
		}
		if shown != nil {
			d.Body = string(shown.Body)
			if d.Table != nil {
				d.Table.fill(shown.Body)
			}
			rv, err := s.resultView(c, ex, shown)
			if err != nil {
				s.internal(c, err)
				return
			}
			d.Shown = rv
			if d.Table != nil {
				d.Table.markWrong(rv)
			}
		}
		d.History = history(subs, shown)
	}
	s.render(c, http.StatusOK, "exercise", s.withDue(c, s.newPage(c, ex.Title, d)))
}

func history(subs []*store.Submission, shown *store.Submission) []historyRow {
	out := make([]historyRow, len(subs))
	for i, sub := range subs {
		out[i] = historyRow{Sub: sub, Current: shown != nil && sub.ID == shown.ID}
	}
	return out
}

// ownSubmission loads a submission the signed-in user may see: their own,
// or anyone's for an instructor. Others get a 404, as if it did not exist.
func (s *Server) ownSubmission(c *gin.Context, id int64) (*store.Submission, error) {
	sub, err := s.store.Submission(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, http.StatusNotFound, "No such attempt", "There is no attempt with this number.")
		return nil, err
	}
	if err != nil {
		s.internal(c, err)
		return nil, err
	}
	u := currentUser(c)
	if sub.UserID != u.ID && !u.Role.CanTeach() {
		s.fail(c, http.StatusNotFound, "No such attempt", "There is no attempt with this number.")
		return nil, store.ErrNotFound
	}
	return sub, nil
}

// tableView is the grid of a "table" exercise.
type tableView struct {
	Columns []tableColumn
	Rows    []tableRow
}

type tableColumn struct {
	ID, Title string
	Options   []string
}

type tableRow struct {
	ID, Title string
	Cells     []tableCell
}

type tableCell struct {
	ID, Column, ColumnTitle string
	Options                 []tableOption
	Wrong                   bool // the shown verdict failed this cell
}

type tableOption struct {
	Column, Value string
	Checked       bool
}

// newTableView lays out a kind's answer sheet as the page's grid.
func newTableView(f *grader.Form) *tableView {
	t := &tableView{}
	for _, col := range f.Columns {
		t.Columns = append(t.Columns, tableColumn{ID: col.ID, Title: col.Title, Options: col.Options})
	}
	for _, r := range f.Rows {
		row := tableRow{ID: r.ID, Title: r.Title}
		for _, col := range t.Columns {
			cell := tableCell{ID: cellID(r.ID, col.ID), Column: col.ID, ColumnTitle: col.Title}
			for _, o := range col.Options {
				cell.Options = append(cell.Options, tableOption{Column: col.ID, Value: o})
			}
			row.Cells = append(row.Cells, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// fill checks the options of a previous answer.
func (t *tableView) fill(body []byte) {
	a := grader.DecodeFormAnswer(body)
	for ri := range t.Rows {
		for ci := range t.Rows[ri].Cells {
			cell := &t.Rows[ri].Cells[ci]
			for oi := range cell.Options {
				cell.Options[oi].Checked = a.Cells[t.Rows[ri].ID][cell.Column] == cell.Options[oi].Value
			}
		}
	}
}

// markWrong marks the cells the failed checks of a verdict point at.
func (t *tableView) markWrong(rv *resultView) {
	wrong := map[string]bool{}
	for _, c := range rv.Failed {
		if c.Cell != "" {
			wrong[c.Cell] = true
		}
	}
	for ri := range t.Rows {
		for ci := range t.Rows[ri].Cells {
			t.Rows[ri].Cells[ci].Wrong = wrong[t.Rows[ri].Cells[ci].ID]
		}
	}
}
