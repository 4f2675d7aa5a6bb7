package server

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/server/store"
)

// maxShownLines bounds the submitted text repeated under a result.
const maxShownLines = 2000

type resultView struct {
	Sub     *store.Submission
	Result  *grader.Result
	Pending bool
	Checks  []checkView
	Lines   []codeLine
	// Marked is true when a failed check points at a line.
	Marked     bool
	FieldLines map[string]int
}

type checkView struct{ Check grader.Check }

type codeLine struct {
	N      int
	Text   string
	Marked bool
}

func (s *Server) resultView(c *gin.Context, ex *content.Exercise, sub *store.Submission) (*resultView, error) {
	rv := &resultView{Sub: sub, Pending: sub.Status != store.JobDone, Result: &grader.Result{}, FieldLines: map[string]int{}}
	if !rv.Pending && len(sub.Result) > 0 {
		if err := json.Unmarshal(sub.Result, rv.Result); err != nil {
			return nil, fmt.Errorf("result of submission %d: %w", sub.ID, err)
		}
	}
	if rv.Result.Reason == "" {
		rv.Result.Reason = sub.Reason
	}
	marked := map[int]bool{}
	for _, ch := range rv.Result.Checks {
		rv.Checks = append(rv.Checks, checkView{Check: ch})
		field := ch.Field
		if field == "" && ch.ID == "submission.parse" {
			field = ch.Message // "line 3, column 7: …"
		}
		if field == "" {
			continue
		}
		line := fieldLine(sub.Body, field)
		if line > 0 {
			rv.FieldLines[ch.Field] = line
			if ch.Status == grader.CheckFail || ch.Status == grader.CheckError {
				marked[line] = true
			}
		}
	}
	text := strings.TrimRight(string(sub.Body), "\n")
	if text != "" {
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
