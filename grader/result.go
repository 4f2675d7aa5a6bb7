// Package grader grades exercise submissions: each exercise kind parses a
// submission strictly, runs static checks, then runs it in containers, and
// returns a Result. The Result is the contract shared with the store, the web
// pages and the command line.
package grader

// Status is the verdict of a whole grading.
type Status string

// Verdicts of a grading. StatusError means the grader could not judge: the
// submission costs the student no attempt.
const (
	StatusPass  Status = "pass"
	StatusFail  Status = "fail"
	StatusError Status = "error"
)

// CheckStatus is the outcome of one check.
type CheckStatus string

// Outcomes of a check.
const (
	CheckPass  CheckStatus = "pass"
	CheckFail  CheckStatus = "fail"
	CheckSkip  CheckStatus = "skip"
	CheckError CheckStatus = "error"
)

// Phase says whether a check was decided by reading the submission (static)
// or by observing it in containers (run).
type Phase string

// Phases of a grading.
const (
	PhaseStatic Phase = "static"
	PhaseRun    Phase = "run"
)

// Variant identifies the per-student version of an exercise.
type Variant struct {
	Seed   int64          `json:"seed"`
	Params map[string]any `json:"params,omitempty"`
}

// Check is one judged requirement. Field is a JSON Pointer (or YAML path)
// into the submission so the page can point at the line.
type Check struct {
	ID        string      `json:"id"`
	Title     string      `json:"title"`
	Status    CheckStatus `json:"status"`
	Phase     Phase       `json:"phase"`
	Field     string      `json:"field,omitempty"`
	Message   string      `json:"message,omitempty"`
	Observed  string      `json:"observed,omitempty"`
	Expected  string      `json:"expected,omitempty"`
	Hint      string      `json:"hint,omitempty"`
	Points    float64     `json:"points"`
	MaxPoints float64     `json:"maxPoints"`
}

// Timings says where a grading spent its time, in milliseconds.
type Timings struct {
	QueuedMs int64 `json:"queuedMs"`
	StaticMs int64 `json:"staticMs"`
	RunMs    int64 `json:"runMs"`
}

// Result is the outcome of one grading.
type Result struct {
	Exercise string   `json:"exercise"`
	Variant  *Variant `json:"variant,omitempty"`
	Status   Status   `json:"status"`
	Score    float64  `json:"score"`
	// ScoreNote says why the scoring rules (see Scoring) lowered the score.
	ScoreNote string `json:"scoreNote,omitempty"`
	Gradable  bool   `json:"gradable"`
	// Reason says in plain words why a grading could not judge (status error).
	Reason  string  `json:"reason,omitempty"`
	Checks  []Check `json:"checks"`
	Timings Timings `json:"timings"`
	Log     string  `json:"log,omitempty"`
	// Node names the grader node that graded the answer.
	Node string `json:"node,omitempty"`
	// Cause is the error behind status error, for the worker to tell an
	// engine that did not answer (grade again later) from the rest. It is
	// not stored.
	Cause error `json:"-"`
}

// Check returns the check with the given id, or nil.
func (r *Result) Check(id string) *Check {
	for i := range r.Checks {
		if r.Checks[i].ID == id {
			return &r.Checks[i]
		}
	}
	return nil
}

// FirstFailure returns the first failed check, or nil.
func (r *Result) FirstFailure() *Check {
	for i := range r.Checks {
		if r.Checks[i].Status == CheckFail {
			return &r.Checks[i]
		}
	}
	return nil
}

// Summarize sets Status and Score from the checks: any failed check fails the
// grading, any check in error makes it an error, and the score is the share
// of points earned.
func (r *Result) Summarize() {
	var got, max float64
	status := StatusPass
	for _, c := range r.Checks {
		got += c.Points
		max += c.MaxPoints
		switch c.Status {
		case CheckFail:
			if status != StatusError {
				status = StatusFail
			}
		case CheckError:
			status = StatusError
		}
	}
	r.Status = status
	r.Gradable = status != StatusError
	r.Score = 0
	if max > 0 {
		r.Score = float64(int(got/max*1000+0.5)) / 1000
	}
	if status == StatusError && r.Reason == "" {
		for _, c := range r.Checks {
			if c.Status == CheckError {
				r.Reason = c.Message
				break
			}
		}
	}
}
