package table

import (
	"fmt"
	"strings"

	"coldstart/grader"
)

// Grid is an exercise's scenario block: the rows and columns a student fills
// in, the choices of each column, and the accepted values of every cell. The
// web page renders the same block as radio buttons.
type Grid struct {
	// Options are the choices of every column that lists none of its own.
	Options []string `yaml:"options"`
	Rows    []Row    `yaml:"rows"`
	Columns []Column `yaml:"columns"`
	// Answers holds, per row id and column id, what is accepted.
	Answers map[string]map[string]Cell `yaml:"answers"`
}

// Row is one line of the grid, such as a platform.
type Row struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
}

// Column is one question asked of every row. Matters says why the
// criterion matters; a wrong cell shows it instead of the right value.
type Column struct {
	ID      string   `yaml:"id"`
	Title   string   `yaml:"title"`
	Options []string `yaml:"options"`
	Matters string   `yaml:"matters"`
}

// Cell is the key of one cell: the accepted values (the first is the
// course's own answer; others are also defensible) and the reasoning, shown
// once the student's value is among them (it names the answer).
type Cell struct {
	Accept []string `yaml:"accept"`
	Why    string   `yaml:"why"`
}

// criterion is the text a wrong cell of a column shows: why the criterion
// matters, in the author's words, or the criterion itself.
func (g *Grid) criterion(c Column) string {
	title := c.Title
	if title == "" {
		title = c.ID
	}
	if m := strings.TrimSpace(c.Matters); m != "" {
		return title + ": " + m
	}
	return "reread what the criterion \"" + title + "\" asks of a platform"
}

// ColumnOptions returns the choices of a column.
func (g *Grid) ColumnOptions(c Column) []string {
	if len(c.Options) > 0 {
		return c.Options
	}
	return g.Options
}

// LoadGrid decodes and checks the scenario of an exercise, so a mistake in
// the exercise is reported to its author rather than to students.
func LoadGrid(spec grader.Spec) (*Grid, error) {
	var g Grid
	if err := spec.DecodeScenario(&g); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if err := g.validate(); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return &g, nil
}

func (g *Grid) validate() error {
	if len(g.Rows) == 0 || len(g.Columns) == 0 {
		return fmt.Errorf("the grid needs at least one row and one column")
	}
	if err := uniqueIDs("row", len(g.Rows), func(i int) string { return g.Rows[i].ID }); err != nil {
		return err
	}
	if err := uniqueIDs("column", len(g.Columns), func(i int) string { return g.Columns[i].ID }); err != nil {
		return err
	}
	for _, c := range g.Columns {
		opts := g.ColumnOptions(c)
		if len(opts) == 0 {
			return fmt.Errorf("column %q has no options and the grid has no default options", c.ID)
		}
		if err := uniqueIDs("option of column "+c.ID, len(opts), func(i int) string { return strings.ToLower(opts[i]) }); err != nil {
			return err
		}
	}
	for _, r := range g.Rows {
		for _, c := range g.Columns {
			cell, ok := g.Answers[r.ID][c.ID]
			if !ok {
				return fmt.Errorf("answers.%s.%s is missing", r.ID, c.ID)
			}
			if len(cell.Accept) == 0 || strings.TrimSpace(cell.Why) == "" {
				return fmt.Errorf("answers.%s.%s needs accept and why", r.ID, c.ID)
			}
			for _, a := range cell.Accept {
				if option(g.ColumnOptions(c), a) == "" {
					return fmt.Errorf("answers.%s.%s accepts %q, which is not an option of column %s (%s)", r.ID, c.ID, a, c.ID, strings.Join(g.ColumnOptions(c), ", "))
				}
			}
		}
	}
	for rid, cols := range g.Answers {
		for cid := range cols {
			if g.row(rid) == nil || g.column(cid) == nil {
				return fmt.Errorf("answers.%s.%s names no cell of the grid", rid, cid)
			}
		}
	}
	return nil
}

func uniqueIDs(what string, n int, id func(int) string) error {
	seen := map[string]bool{}
	for i := range n {
		v := id(i)
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("a %s has an empty id", what)
		}
		if seen[v] {
			return fmt.Errorf("%s %q appears twice", what, v)
		}
		seen[v] = true
	}
	return nil
}

func (g *Grid) row(id string) *Row {
	for i := range g.Rows {
		if g.Rows[i].ID == id {
			return &g.Rows[i]
		}
	}
	return nil
}

func (g *Grid) column(id string) *Column {
	for i := range g.Columns {
		if g.Columns[i].ID == id {
			return &g.Columns[i]
		}
	}
	return nil
}

// option returns the option a value names (letter case and surrounding
// spaces aside), or "".
func option(opts []string, v string) string {
	v = strings.TrimSpace(v)
	for _, o := range opts {
		if strings.EqualFold(o, v) {
			return o
		}
	}
	return ""
}

var _ grader.Former = Kind{}

// Form is the grid as the web page shows it; the answer it submits is a
// grader.FormAnswer, which ParseAnswer reads.
func (Kind) Form(spec grader.Spec) (*grader.Form, error) {
	g, err := LoadGrid(spec)
	if err != nil {
		return nil, err
	}
	f := &grader.Form{}
	for _, c := range g.Columns {
		title := c.Title
		if title == "" {
			title = c.ID
		}
		f.Columns = append(f.Columns, grader.FormColumn{ID: c.ID, Title: title, Options: g.ColumnOptions(c)})
	}
	for _, r := range g.Rows {
		title := r.Title
		if title == "" {
			title = r.ID
		}
		f.Rows = append(f.Rows, grader.FormRow{ID: r.ID, Title: title})
	}
	return f, nil
}
