// Package cost is the grader kind "cost": the student prices a stated
// workload line by line (the usage in the price's unit and what it costs),
// adds each platform's lines up and names the cheaper one. Every line is
// judged on its own and comes back with its arithmetic written out, each
// price with its source and the date it was read. It is static only.
package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"coldstart/grader"
)

// Kind grades cost sheets.
type Kind struct{}

var _ grader.Kind = Kind{}

// Name is the kind as written in exercise front matter.
func (Kind) Name() string { return "cost" }

// Answer is a submission. Null or missing numbers count as unanswered.
type Answer struct {
	Lines   map[string]LineAnswer `json:"lines"`
	Totals  map[string]*float64   `json:"totals"`
	Cheaper string                `json:"cheaper"`
}

// LineAnswer is the student's usage and cost of one line.
type LineAnswer struct {
	Quantity *float64 `json:"quantity"`
	Cost     *float64 `json:"cost"`
}

// Tolerances: a quantity within half a percent is the same usage read with
// rounding; a cost within two cents or half a percent is the same amount
// reached by rounding intermediate figures.
const (
	quantityTolerance = 0.005
	costTolerance     = 0.005
	costSlack         = 0.02
)

// Check ids.
const (
	CheckUnknown = "cost.unknown"
	CheckCheaper = "cost.cheaper"
)

// LineID is the id of the check judging one line.
func LineID(line string) string { return "cost.line." + line }

// TotalID is the id of the check judging one group's total.
func TotalID(group string) string { return "cost.total." + group }

// ParseAnswer reads a submission strictly.
func ParseAnswer(body []byte) (Answer, error) {
	var a Answer
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return a, &grader.InputError{Message: strings.TrimPrefix(err.Error(), "json: ") + `: the answer has "lines", "totals" and "cheaper", and each line has "quantity" and "cost"`}
		}
		if err.Error() == "EOF" {
			return a, &grader.InputError{Message: `the answer is empty; write {"lines": {"<line>": {"quantity": 0, "cost": 0}}, "totals": {"<platform>": 0}, "cheaper": "<platform>"}`}
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
	if a.Lines == nil {
		return a, &grader.InputError{Field: "/lines", Message: `the answer needs a "lines" object, e.g. {"lines": {"<line>": {"quantity": 0, "cost": 0}}}`}
	}
	for id, v := range a.Totals {
		if v != nil && (math.IsNaN(*v) || *v < 0) {
			return a, &grader.InputError{Field: "/totals/" + id, Message: "a total must be a positive number of dollars"}
		}
	}
	return a, nil
}

// Plan judges every line, every total and the verdict; nothing runs.
func (Kind) Plan(g *grader.Grading) (*grader.Plan, error) {
	s, err := LoadSheet(g.Spec)
	if err != nil {
		return nil, err
	}
	a, err := ParseAnswer(g.Body)
	if err != nil {
		return nil, err
	}
	return &grader.Plan{Checks: Judge(s, a)}, nil
}

// Judge returns one check per line in the sheet's order, one per group
// total, the verdict, and a check naming lines the sheet does not have.
func Judge(s *Sheet, a Answer) []grader.Check {
	var checks []grader.Check
	for _, l := range s.Lines {
		checks = append(checks, judgeLine(s, l, a.Lines[l.ID]))
	}
	for _, gr := range s.Groups {
		checks = append(checks, judgeTotal(s, gr, a.Totals[gr.ID]))
	}
	checks = append(checks, judgeCheaper(s, a.Cheaper))
	if c, ok := unknown(s, a); ok {
		checks = append(checks, c)
	}
	return checks
}

func judgeLine(s *Sheet, l Line, a LineAnswer) grader.Check {
	want, wantCost := l.usage(), cents(s.lineCost(l))
	c := grader.Check{
		ID: LineID(l.ID), Title: s.group(l.Group).Title + " — " + l.Title,
		Field: "/lines/" + l.ID, MaxPoints: 1,
		Expected: fmt.Sprintf("quantity %s, cost %s", number(want), money(wantCost)),
	}
	work := s.explain(l)
	if a.Quantity == nil || a.Cost == nil {
		c.Status, c.Observed = grader.CheckFail, "no answer"
		c.Message = "no answer; the line works out as " + work
		return c
	}
	c.Observed = fmt.Sprintf("quantity %s, cost %s", number(*a.Quantity), money(*a.Cost))
	qOK, cOK := near(*a.Quantity, want, quantityTolerance, 0), near(*a.Cost, wantCost, costTolerance, costSlack)
	switch {
	case qOK && cOK:
		c.Status, c.Points = grader.CheckPass, 1
		c.Message = work
	case !qOK:
		c.Status, c.Field = grader.CheckFail, c.Field+"/quantity"
		c.Message = fmt.Sprintf("the usage is %s, not %s: %s The line works out as %s", number(want), number(*a.Quantity), sentence(l.Why), work)
	default:
		c.Status, c.Field = grader.CheckFail, c.Field+"/cost"
		c.Message = fmt.Sprintf("the usage is right, but %s × %s is %s, not %s: %s", number(want), rate(s.price(l.Price).Amount), money(wantCost), money(*a.Cost), work)
	}
	return c
}

func judgeTotal(s *Sheet, gr Group, v *float64) grader.Check {
	want := s.total(gr.ID)
	var parts []string
	for _, l := range s.Lines {
		if l.Group == gr.ID {
			parts = append(parts, money(s.lineCost(l)))
		}
	}
	work := fmt.Sprintf("%s = %s", strings.Join(parts, " + "), money(want))
	c := grader.Check{ID: TotalID(gr.ID), Title: gr.Title + " — total per month", Field: "/totals/" + gr.ID,
		MaxPoints: 1, Expected: money(want)}
	switch {
	case v == nil:
		c.Status, c.Observed = grader.CheckFail, "no answer"
		c.Message = "no answer; the lines add up to " + work
	case near(*v, want, costTolerance, costSlack):
		c.Status, c.Points, c.Observed = grader.CheckPass, 1, money(*v)
		c.Message = work
	default:
		c.Status, c.Observed = grader.CheckFail, money(*v)
		c.Message = fmt.Sprintf("the lines add up to %s, not %s: %s", money(want), money(*v), work)
	}
	return c
}

func judgeCheaper(s *Sheet, v string) grader.Check {
	var totals []string
	for _, gr := range s.Groups {
		totals = append(totals, fmt.Sprintf("%s %s", gr.Title, money(s.total(gr.ID))))
	}
	c := grader.Check{ID: CheckCheaper, Title: "The cheaper platform for this workload", Field: "/cheaper", MaxPoints: 1,
		Expected: s.Cheaper}
	cheaper := s.group(s.Cheaper).Title
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		c.Status, c.Observed = grader.CheckFail, "no answer"
		c.Message = fmt.Sprintf("no answer; %s is cheaper (%s)", cheaper, strings.Join(totals, " against "))
	case s.group(v) == nil:
		c.Status, c.Observed = grader.CheckFail, fmt.Sprintf("%q", v)
		c.Message = fmt.Sprintf("%q is not one of the platforms (%s)", v, groupIDs(s))
	case v == s.Cheaper:
		c.Status, c.Points, c.Observed = grader.CheckPass, 1, v
		c.Message = strings.Join(totals, " against ")
	default:
		c.Status, c.Observed = grader.CheckFail, v
		c.Message = fmt.Sprintf("%s is cheaper for this workload: %s", cheaper, strings.Join(totals, " against "))
	}
	return c
}

// unknown reports lines and totals of the answer that the sheet lacks.
func unknown(s *Sheet, a Answer) (grader.Check, bool) {
	var msgs []string
	field := ""
	for _, id := range slices.Sorted(maps.Keys(a.Lines)) {
		if s.line(id) == nil {
			if field == "" {
				field = "/lines/" + id
			}
			msgs = append(msgs, fmt.Sprintf("there is no line %q", id))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(a.Totals)) {
		if s.group(id) == nil {
			if field == "" {
				field = "/totals/" + id
			}
			msgs = append(msgs, fmt.Sprintf("there is no platform %q to total (the platforms are %s)", id, groupIDs(s)))
		}
	}
	if len(msgs) == 0 {
		return grader.Check{}, false
	}
	return grader.Check{ID: CheckUnknown, Title: "Every answered line is on the bill", Status: grader.CheckFail,
		Field: field, Message: strings.Join(msgs, "; ")}, true
}

func groupIDs(s *Sheet) string {
	var ids []string
	for _, g := range s.Groups {
		ids = append(ids, g.ID)
	}
	return strings.Join(ids, ", ")
}

// sentence ends a text with a full stop, once.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// near says whether got is within a relative tolerance of want, or within
// an absolute slack for small amounts.
func near(got, want, rel, slack float64) bool {
	d := math.Abs(got - want)
	return d <= slack || d <= rel*math.Abs(want)
}
