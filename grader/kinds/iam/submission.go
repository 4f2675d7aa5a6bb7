package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"coldstart/exercises/labs/awssim/policy"
	"coldstart/grader"
)

// Submission is the student's answer: both roles of the task, each with its
// trust policy and its permission policy.
//
//	{"executionRole": {"trustPolicy": {…}, "permissionPolicy": {…}},
//	 "taskRole":      {"trustPolicy": {…}, "permissionPolicy": {…}}}
type Submission struct {
	ExecutionRole *RoleDocs `json:"executionRole"`
	TaskRole      *RoleDocs `json:"taskRole"`
}

// RoleDocs holds one role's two policy documents as written.
type RoleDocs struct {
	TrustPolicy      json.RawMessage `json:"trustPolicy"`
	PermissionPolicy json.RawMessage `json:"permissionPolicy"`
}

// roleSide names one of the two roles in messages and pointers.
type roleSide struct {
	key   string // executionRole or taskRole
	label string // "execution role"
}

var (
	executionSide = roleSide{"executionRole", "execution role"}
	taskSide      = roleSide{"taskRole", "task role"}
)

// parsed is a submission with its documents read.
type parsed struct {
	sub  Submission
	docs map[string]*policy.Document // "executionRole/trustPolicy" → document
	errs map[string]error
}

func (p *parsed) doc(side roleSide, which string) *policy.Document {
	return p.docs[side.key+"/"+which]
}

func (p *parsed) valid() bool { return len(p.errs) == 0 }

// parseSubmission reads the body strictly. A body that is not this shape of
// JSON at all is an *grader.InputError; documents IAM would reject are
// recorded in errs for the static checks to report.
func parseSubmission(body []byte) (*parsed, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var sub Submission
	if err := dec.Decode(&sub); err != nil {
		if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, &grader.InputError{Message: "unknown field " + msg +
				": the answer is an object with executionRole and taskRole, each holding trustPolicy and permissionPolicy"}
		}
		if errors.Is(err, io.EOF) {
			return nil, &grader.InputError{Message: "the submission is empty: write a JSON object with executionRole and taskRole"}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			line, col := grader.LineColumn(body, int64(len(body)))
			return nil, &grader.InputError{Line: line, Column: col,
				Message: "malformed JSON: the submission ends before its last object or list is closed"}
		}
		return nil, grader.JSONError(body, err)
	}
	if dec.More() {
		return nil, &grader.InputError{Message: "the submission holds more than one JSON value: write a single object"}
	}
	p := &parsed{sub: sub, docs: map[string]*policy.Document{}, errs: map[string]error{}}
	for _, side := range []roleSide{executionSide, taskSide} {
		r := sub.ExecutionRole
		if side == taskSide {
			r = sub.TaskRole
		}
		if r == nil {
			r = &RoleDocs{}
		}
		for _, which := range []struct {
			name string
			raw  json.RawMessage
			typ  policy.Type
		}{{"trustPolicy", r.TrustPolicy, policy.Trust}, {"permissionPolicy", r.PermissionPolicy, policy.Identity}} {
			key := side.key + "/" + which.name
			d, err := policy.Parse(which.raw, which.typ)
			if err != nil {
				p.errs[key] = err
				continue
			}
			p.docs[key] = d
		}
	}
	return p, nil
}
