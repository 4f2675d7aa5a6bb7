package grader

import (
	"encoding/json"
	"strings"
)

// Form is an answer sheet of rows against columns, one option per cell, for
// kinds whose answers are choices rather than text. The web tier shows it as
// a grid of radio buttons; the answer it submits is a FormAnswer.
type Form struct {
	Columns []FormColumn
	Rows    []FormRow
}

// FormColumn is one question asked of every row, with its choices.
type FormColumn struct {
	ID, Title string
	Options   []string
}

// FormRow is one thing every column asks about.
type FormRow struct {
	ID, Title string
}

// Former is implemented by kinds whose exercises are answered on a Form.
type Former interface {
	Form(spec Spec) (*Form, error)
}

// FormAnswer is the submission of a Form: {"cells": {"<row>": {"<column>":
// "<option>"}}}.
type FormAnswer struct {
	Cells map[string]map[string]string `json:"cells"`
}

// DecodeFormAnswer reads the cells of a previous answer; a body that is not
// one gives no cells.
func DecodeFormAnswer(body []byte) FormAnswer {
	var a FormAnswer
	if json.Unmarshal(body, &a) != nil {
		return FormAnswer{}
	}
	return a
}

// FormAnswerFromFields builds the answer from form fields named
// cell.<row>.<column>, as a grid posted without script sends them. It says
// whether any cell was found.
func FormAnswerFromFields(fields map[string][]string) ([]byte, bool) {
	a := FormAnswer{Cells: map[string]map[string]string{}}
	found := false
	for k, v := range fields {
		parts := strings.Split(k, ".")
		if len(parts) != 3 || parts[0] != "cell" || len(v) == 0 {
			continue
		}
		if a.Cells[parts[1]] == nil {
			a.Cells[parts[1]] = map[string]string{}
		}
		a.Cells[parts[1]][parts[2]] = v[0]
		found = true
	}
	b, _ := json.Marshal(a)
	return b, found
}

// Form returns the answer sheet of an exercise whose kind has one, and nil
// for the kinds answered in the editor.
func (e *Engine) Form(spec Spec) (*Form, error) {
	k, ok := e.Kind(spec.Kind)
	if !ok {
		return nil, nil
	}
	f, ok := k.(Former)
	if !ok {
		return nil, nil
	}
	return f.Form(spec)
}
