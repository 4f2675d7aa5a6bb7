package server

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// maxShownLines bounds the submitted text repeated under a result.
const maxShownLines = 2000

// resultView is one verdict as the page shows it: a summary, the failures
// first with links to each, then what was not run, then the passes folded.
type resultView struct {
	Sub     *store.Submission
	Result  *grader.Result
	Pending bool
	Failed  []checkView // failed or could not be judged
	Skipped []checkView
	Passed  []checkView
	Total   int
	// FailCount and ErrorCount split Failed: checks that failed, and checks
	// the grader could not judge.
	FailCount, ErrorCount int
	// Lines is the submitted text, shown only when the student typed it:
	// a grid answer is JSON the page wrote, so it has no lines to point at.
	Lines []codeLine
	// Marked is true when a failed check points at a line.
	Marked bool
	// ReasonSaysNotCounted is true when the grader's reason already says
	// the attempt does not count, so the page does not say it twice.
	ReasonSaysNotCounted bool
}

type checkView struct {
	Check  grader.Check
	Anchor string // the id of the check's card
	Line   int    // the line of the typed answer the check points at, or 0
	Cell   string // for a grid, the id of the cell the check is about
}

// checkCard is what the "check" template renders: a check and the verdict
// it belongs to (for line links).
type checkCard struct {
	View   checkView
	Result *resultView
}

// Failed says whether the check failed or could not be judged.
func (c checkView) Failed() bool {
	return c.Check.Status == grader.CheckFail || c.Check.Status == grader.CheckError
}

type codeLine struct {
	N      int
	Text   string
	Marked bool
}

func (s *Server) resultView(c *gin.Context, ex *content.Exercise, sub *store.Submission) (*resultView, error) {
	rv := &resultView{Sub: sub, Pending: sub.Status != store.JobDone, Result: &grader.Result{}}
	if !rv.Pending && len(sub.Result) > 0 {
		if err := json.Unmarshal(sub.Result, rv.Result); err != nil {
			return nil, fmt.Errorf("result of submission %d: %w", sub.ID, err)
		}
	}
	if rv.Result.Reason == "" {
		rv.Result.Reason = sub.Reason
	}
	rv.ReasonSaysNotCounted = strings.Contains(strings.ToLower(rv.Result.Reason), "does not count")
	form, err := s.grader.Form(grading.SpecOf(ex))
	typed := err != nil || form == nil
	marked := map[int]bool{}
	for i, ch := range rv.Result.Checks {
		cv := checkView{Check: ch, Anchor: fmt.Sprintf("check-%d-%d", sub.ID, i+1)}
		field := ch.Field
		if field == "" && ch.ID == "submission.parse" {
			field = ch.Message // "line 3, column 7: …"
		}
		switch {
		case !typed:
			cv.Cell = cellAnchor(ch.Field)
		case field != "":
			cv.Line = fieldLine(sub.Body, field)
			if cv.Line > 0 && cv.Failed() {
				marked[cv.Line] = true
			}
		}
		switch {
		case cv.Failed():
			rv.Failed = append(rv.Failed, cv)
			if ch.Status == grader.CheckFail {
				rv.FailCount++
			} else {
				rv.ErrorCount++
			}
		case ch.Status == grader.CheckSkip:
			rv.Skipped = append(rv.Skipped, cv)
		default:
			rv.Passed = append(rv.Passed, cv)
		}
	}
	rv.Total = len(rv.Result.Checks)
	if text := strings.TrimRight(string(sub.Body), "\n"); typed && text != "" {
		for i, l := range strings.Split(text, "\n") {
			if i >= maxShownLines {
				break
			}
			rv.Lines = append(rv.Lines, codeLine{N: i + 1, Text: l, Marked: marked[i+1]})
		}
	}
	rv.Marked = len(marked) > 0
	return rv, nil
}

// cellAnchor turns the field of a grid answer ("/cells/<row>/<col>") into
// the id of that cell in the page's grid, or "".
func cellAnchor(field string) string {
	parts := strings.Split(strings.TrimPrefix(field, "/"), "/")
	if len(parts) != 3 || parts[0] != "cells" {
		return ""
	}
	unescape := strings.NewReplacer("~1", "/", "~0", "~")
	return cellID(unescape.Replace(parts[1]), unescape.Replace(parts[2]))
}

// cellID is the id of a grid cell in the exercise page.
func cellID(row, col string) string { return "cell-" + row + "-" + col }
