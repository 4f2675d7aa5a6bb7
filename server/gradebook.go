package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/server/store"
)

// The gradebook's fixed columns; each exercise then adds "<id>",
// "<id> attempts" and "<id> late".
var gradebookColumns = []string{"email", "name", "group", "lessons completed", "quizzes right at first try"}

// gradebookTable is the gradebook as columns and rows of values, which the
// CSV and the JSON both write.
type gradebookTable struct {
	Columns []string
	Rows    [][]any
}

func buildGradebook(course *content.Course, rows []store.GradebookRow) gradebookTable {
	t := gradebookTable{Columns: append([]string(nil), gradebookColumns...)}
	for _, ex := range course.Exercises {
		t.Columns = append(t.Columns, ex.ID, ex.ID+" attempts", ex.ID+" late")
	}
	for _, r := range rows {
		line := []any{r.Email, r.Name, r.Group, r.LessonsDone, r.QuizzesFirstTry}
		for _, ex := range course.Exercises {
			c := r.Exercises[ex.ID]
			line = append(line, c.Best, c.Attempts, c.Late)
		}
		t.Rows = append(t.Rows, line)
	}
	return t
}

// gradebookQuery reads the students of the course, of one group if asked.
func (s *Server) gradebookRows(c *gin.Context) (*content.Course, []store.GradebookRow, string, bool) {
	course := s.course.Course()
	q := store.GradebookQuery{}
	for _, l := range course.Lessons {
		q.Lessons = append(q.Lessons, l.Slug)
		for _, quiz := range l.Quizzes {
			q.Quizzes = append(q.Quizzes, quiz.ID)
		}
	}
	for _, ex := range course.Exercises {
		q.Exercises = append(q.Exercises, ex.ID)
	}
	groupName := ""
	if g := c.Query("group"); g != "" {
		group, err := s.store.GroupByName(c.Request.Context(), g)
		if err != nil {
			if id, perr := strconv.ParseInt(g, 10, 64); perr == nil {
				group, err = s.store.GroupByID(c.Request.Context(), id)
			}
		}
		if err != nil {
			s.failWith(c, errorf(ENotFound, "No such group", "There is no group named "+strconv.Quote(g)+"."))
			return nil, nil, "", false
		}
		q.GroupID, groupName = group.ID, group.Name
	}
	rows, err := s.store.Gradebook(c.Request.Context(), q)
	if err != nil {
		s.failWith(c, err)
		return nil, nil, "", false
	}
	return course, rows, groupName, true
}

func (s *Server) recordExport(c *gin.Context, format, group string) {
	detail := format
	if group != "" {
		detail += " group " + group
	}
	if err := s.store.Record(c.Request.Context(), store.ActorOf(currentUser(c)), store.AuditExport, nil, detail); err != nil {
		s.logger.ErrorContext(c.Request.Context(), "record export", slog.Any("err", err))
	}
}

func gradebookFilename(group, ext string) string {
	name := "gradebook"
	if group != "" {
		name += "-" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
				return r
			}
			return '-'
		}, group)
	}
	return name + "-" + time.Now().UTC().Format("20060102") + "." + ext
}

// gradebookCSV writes the gradebook as RFC 4180 CSV.
func (s *Server) gradebookCSV(c *gin.Context) {
	course, rows, group, ok := s.gradebookRows(c)
	if !ok {
		return
	}
	t := buildGradebook(course, rows)
	var buf bytes.Buffer
	if err := writeCSV(&buf, t); err != nil {
		s.internal(c, err)
		return
	}
	s.recordExport(c, "csv", group)
	c.Header("Content-Disposition", `attachment; filename="`+gradebookFilename(group, "csv")+`"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8; header=present", buf.Bytes())
}

func writeCSV(buf *bytes.Buffer, t gradebookTable) error {
	w := csv.NewWriter(buf)
	w.UseCRLF = true // RFC 4180 ends records with CRLF
	cells := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		cells[i] = neutralise(col)
	}
	if err := w.Write(cells); err != nil {
		return err
	}
	for _, r := range t.Rows {
		for i, v := range r {
			cells[i] = neutralise(csvValue(v))
		}
		if err := w.Write(cells); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

func csvValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// neutralise keeps a spreadsheet from reading a cell as a formula: a cell
// that begins with =, +, -, @ (or a tab or carriage return, which some
// spreadsheets skip before one) gets a leading apostrophe.
func neutralise(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// gradebookJSON writes the same table as JSON: the columns, and one object
// per student keyed by column.
func (s *Server) gradebookJSON(c *gin.Context) {
	course, rows, group, ok := s.gradebookRows(c)
	if !ok {
		return
	}
	t := buildGradebook(course, rows)
	students := make([]map[string]any, 0, len(t.Rows))
	for _, r := range t.Rows {
		m := make(map[string]any, len(t.Columns))
		for i, col := range t.Columns {
			m[col] = r[i]
		}
		students = append(students, m)
	}
	b, err := json.Marshal(map[string]any{"columns": t.Columns, "students": students, "group": group})
	if err != nil {
		s.internal(c, err)
		return
	}
	s.recordExport(c, "json", group)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}
