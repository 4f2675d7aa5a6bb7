// Package table is the grader kind "table": the student fills a grid (rows
// against columns, one option per cell) and every cell is judged on its own,
// with partial credit and the reason for each wrong or missing cell. It is
// static only: nothing runs in containers.
package table

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"coldstart/grader"
)

// Kind grades grids.
type Kind struct{}

var _ grader.Kind = Kind{}

// Name is the kind as written in exercise front matter.
func (Kind) Name() string { return "table" }

// Answer is a submission: {"cells": {"<row>": {"<col>": "<option>"}}}. A
// null cell counts as unanswered.
type Answer struct {
	Cells map[string]map[string]*string `json:"cells"`
}

// ParseAnswer reads a submission strictly.
func ParseAnswer(body []byte) (Answer, error) {
	var a Answer
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return a, &grader.InputError{Message: strings.TrimPrefix(err.Error(), "json: ") + `: the answer has one field, "cells"`}
		}
		if err.Error() == "EOF" {
			return a, &grader.InputError{Message: `the answer is empty; write {"cells": {"<row>": {"<column>": "<option>"}}}`}
		}
		ie := grader.JSONError(body, err)
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			ie.Field = "/" + strings.ReplaceAll(typ.Field, ".", "/")
		}
		return a, ie
	}
	if dec.More() {
		ie := &grader.InputError{Message: "unexpected text after the JSON object"}
		ie.Line, ie.Column = grader.LineColumn(body, dec.InputOffset())
		return a, ie
	}
	if a.Cells == nil {
		return a, &grader.InputError{Field: "/cells", Message: `the answer needs a "cells" object, e.g. {"cells": {"<row>": {"<column>": "<option>"}}}`}
	}
	return a, nil
}

// CheckUnknown is the id of the check that reports rows, columns or cells
// the grid does not have.
const CheckUnknown = "table.unknown"

// CellID is the id of the check judging one cell.
func CellID(row, col string) string { return "table." + row + "." + col }

// Plan judges every cell of the grid; nothing runs.
func (Kind) Plan(g *grader.Grading) (*grader.Plan, error) {
	grid, err := LoadGrid(g.Spec)
	if err != nil {
		return nil, err
	}
	a, err := ParseAnswer(g.Body)
	if err != nil {
		return nil, err
	}
	return &grader.Plan{Checks: Judge(grid, a)}, nil
}

// Judge returns one check per cell, in reading order, and a check naming
// anything the answer holds that the grid does not.
func Judge(grid *Grid, a Answer) []grader.Check {
	var checks []grader.Check
	for _, r := range grid.Rows {
		for _, col := range grid.Columns {
			checks = append(checks, judgeCell(grid, r, col, a.Cells[r.ID][col.ID]))
		}
	}
	if c, ok := unknown(grid, a); ok {
		checks = append(checks, c)
	}
	return checks
}

// judgeCell judges one cell. A wrong or missing cell says which cell it is
// and why its criterion matters, never the accepted value: a result must not
// be an answer key a student copies back. The cell's full reasoning, which
// gives the answer away, is shown once the cell is right.
func judgeCell(grid *Grid, r Row, col Column, value *string) grader.Check {
	key := grid.Answers[r.ID][col.ID]
	opts := grid.ColumnOptions(col)
	c := grader.Check{
		ID:        CellID(r.ID, col.ID),
		Title:     r.Title + " — " + col.Title,
		Field:     "/cells/" + pointerToken(r.ID) + "/" + pointerToken(col.ID),
		MaxPoints: 1,
		Hint:      grid.criterion(col),
	}
	if value == nil || strings.TrimSpace(*value) == "" {
		c.Status, c.Observed = grader.CheckFail, "no answer"
		c.Message = fmt.Sprintf("no answer yet for %s: choose one of %s", r.Title, strings.Join(opts, ", "))
		return c
	}
	c.Observed = quote(*value)
	chosen := option(opts, *value)
	if chosen == "" {
		c.Status = grader.CheckFail
		c.Message = fmt.Sprintf("%s is not one of the choices (%s)", quote(*value), strings.Join(opts, ", "))
		return c
	}
	c.Observed = chosen
	for i, acc := range key.Accept {
		if strings.EqualFold(acc, chosen) {
			c.Status, c.Points, c.Hint = grader.CheckPass, 1, ""
			c.Message = key.Why
			if i > 0 {
				c.Message = fmt.Sprintf("%s is accepted; the course's answer is %s: %s", chosen, key.Accept[0], key.Why)
			}
			return c
		}
	}
	c.Status = grader.CheckFail
	c.Message = fmt.Sprintf("%s is not right for %s; weigh it against the criterion again", chosen, r.Title)
	return c
}

// unknown reports rows and columns of the answer that are not in the grid.
func unknown(grid *Grid, a Answer) (grader.Check, bool) {
	var msgs []string
	field := ""
	rows := slices.Sorted(maps.Keys(a.Cells))
	for _, rid := range rows {
		if grid.row(rid) == nil {
			if field == "" {
				field = "/cells/" + pointerToken(rid)
			}
			msgs = append(msgs, fmt.Sprintf("there is no row %s (the rows are %s)", quote(rid), ids(len(grid.Rows), func(i int) string { return grid.Rows[i].ID })))
			continue
		}
		for _, cid := range slices.Sorted(maps.Keys(a.Cells[rid])) {
			if grid.column(cid) == nil {
				if field == "" {
					field = "/cells/" + pointerToken(rid) + "/" + pointerToken(cid)
				}
				msgs = append(msgs, fmt.Sprintf("row %s has no column %s (the columns are %s)", rid, quote(cid), ids(len(grid.Columns), func(i int) string { return grid.Columns[i].ID })))
			}
		}
	}
	if len(msgs) == 0 {
		return grader.Check{}, false
	}
	const maxListed = 3
	more := ""
	if len(msgs) > maxListed {
		more = fmt.Sprintf("; and %d more", len(msgs)-maxListed)
		msgs = msgs[:maxListed]
	}
	return grader.Check{ID: CheckUnknown, Title: "Every answered cell is in the grid", Status: grader.CheckFail, Phase: grader.PhaseStatic,
		Field: field, Message: strings.Join(msgs, "; ") + more}, true
}

func ids(n int, id func(int) string) string {
	out := make([]string, n)
	for i := range n {
		out[i] = id(i)
	}
	return strings.Join(out, ", ")
}

// pointerToken escapes a key for a JSON Pointer (RFC 6901).
func pointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// quote shows a submitted string in a message, cut to a readable length.
func quote(s string) string {
	const limit = 40
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
