package grader

import (
	"encoding/json"
	"fmt"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// MaxSubmissionBytes is the largest submission any kind accepts.
const MaxSubmissionBytes = 64 << 10

// Spec is what the grader knows about an exercise: it comes from the
// exercise's front matter.
type Spec struct {
	ID   string
	Kind string
	Lab  string
	// Params holds the ranges a per-student variant is drawn from.
	Params map[string]any
	// Scenario holds the exercise's requirements, decoded by its kind.
	Scenario map[string]any
	// TimeLimit bounds one grading; zero means the engine's default.
	TimeLimit time.Duration
}

// DecodeScenario decodes the scenario block into v (a struct with yaml tags).
func (s Spec) DecodeScenario(v any) error { return remarshal(s.Scenario, v) }

// DecodeParams decodes the params block into v (a struct with yaml tags).
func (s Spec) DecodeParams(v any) error { return remarshal(s.Params, v) }

func remarshal(in map[string]any, v any) error {
	if in == nil {
		return nil
	}
	b, err := yaml.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// Request asks for one submission to be graded.
type Request struct {
	Spec Spec
	Seed int64
	Body []byte
	// ID names the grading; containers and networks are labelled with it.
	// The engine makes one up when it is empty.
	ID string
	// Events, when set, receives progress as the grading goes.
	Events func(Event)
	// Queued is how long the request waited before grading began.
	Queued time.Duration
}

// EventType says what an Event reports.
type EventType string

// Progress events of a grading.
const (
	EventRunning  EventType = "running"  // a check started; Title names it
	EventCheck    EventType = "check"    // a check finished; Check holds it
	EventProgress EventType = "progress" // a step inside a check; Message says what
)

// Event is one step of a grading's progress.
type Event struct {
	Type    EventType `json:"type"`
	CheckID string    `json:"checkId,omitempty"`
	Title   string    `json:"title,omitempty"`
	Message string    `json:"message,omitempty"`
	Check   *Check    `json:"check,omitempty"`
}

// Kind grades one type of exercise.
type Kind interface {
	// Name is the kind as written in exercise front matter.
	Name() string
	// Plan parses g.Body strictly and judges it without running anything:
	// it returns the static checks and, for kinds that run submissions,
	// the run phase. A returned error means the grader could not judge (an
	// *InputError for a submission that is not one at all).
	Plan(g *Grading) (*Plan, error)
}

// Varianter is implemented by kinds whose exercises differ per student.
type Varianter interface {
	Variant(spec Spec, seed int64) (*Variant, error)
}

// InputError reports a submission that could not be read at all, such as
// malformed JSON. Line and Column are 1-based when known.
type InputError struct {
	Field   string
	Line    int
	Column  int
	Message string
}

func (e *InputError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
	}
	return e.Message
}

// JSONError turns an encoding/json error on body into an *InputError with
// the line and column of the offending byte.
func JSONError(body []byte, err error) *InputError {
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case asError(err, &syn):
		// Offset counts the offending byte itself.
		offset = syn.Offset - 1
		if offset < 0 {
			offset = 0
		}
		msg = "malformed JSON: " + syn.Error()
	case asError(err, &typ):
		offset = typ.Offset
		field := typ.Field
		if field == "" {
			field = "value"
		}
		msg = fmt.Sprintf("%s must be %s, not a JSON %s", field, describeType(typ.Type.Kind().String()), typ.Value)
	}
	ie := &InputError{Message: msg}
	if offset >= 0 {
		ie.Line, ie.Column = LineColumn(body, offset)
	}
	return ie
}

func describeType(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice", "array":
		return "a list"
	case "map", "struct":
		return "an object"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "float64", "float32", "uint", "uint64":
		return "a number"
	}
	return k
}

// LineColumn converts a byte offset in body to a 1-based line and column.
func LineColumn(body []byte, offset int64) (line, col int) {
	if offset > int64(len(body)) {
		offset = int64(len(body))
	}
	line, col = 1, 1
	for _, b := range body[:offset] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
