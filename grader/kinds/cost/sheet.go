package cost

import (
	"fmt"
	"regexp"
	"strings"

	"coldstart/grader"
)

// Sheet is an exercise's scenario block: the dated prices the exercise
// uses, the lines of the bill with the usage behind each, the groups the
// lines add up to, and which group is the cheaper one.
type Sheet struct {
	Prices []Price `yaml:"prices"`
	Groups []Group `yaml:"groups"`
	Lines  []Line  `yaml:"lines"`
	// Cheaper is the id of the group with the smaller total; the grader
	// checks it against the totals it computes, so a scenario cannot
	// contradict its own arithmetic.
	Cheaper string `yaml:"cheaper"`
}

// Price is one list price. Source and date are required: a price without
// them cannot be checked by the reader, and prices change.
type Price struct {
	ID     string  `yaml:"id"`
	Amount float64 `yaml:"amount"`
	// Per is the unit the amount buys, e.g. "vCPU-hour".
	Per    string `yaml:"per"`
	Source string `yaml:"source"`
	// Date is when the price was read, YYYY-MM-DD.
	Date string `yaml:"date"`
}

// Group is a set of lines that add up to one total, such as one platform.
type Group struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
}

// Line is one line of the bill: a usage (a sum of products of factors,
// less any free allowance) times one price.
type Line struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	Group string `yaml:"group"`
	// Terms are added; each is the product of its factors.
	Terms [][]Factor `yaml:"terms"`
	// Free is an allowance in the price's unit, subtracted from the usage
	// (never below zero), such as a monthly free tier.
	Free  float64 `yaml:"free"`
	Price string  `yaml:"price"`
	// Why is shown when the line is wrong: the reasoning behind the usage.
	Why string `yaml:"why"`
}

// Factor is one number of a product with what it counts ("tasks",
// "hours a day").
type Factor struct {
	Value float64 `yaml:"value"`
	Unit  string  `yaml:"unit"`
}

// LoadSheet decodes and checks the scenario of an exercise, so a mistake
// in the exercise is reported to its author rather than to students.
func LoadSheet(spec grader.Spec) (*Sheet, error) {
	var s Sheet
	if err := spec.DecodeScenario(&s); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return &s, nil
}

var (
	idPattern   = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

func (s *Sheet) validate() error {
	if len(s.Prices) == 0 || len(s.Groups) == 0 || len(s.Lines) == 0 {
		return fmt.Errorf("a cost sheet needs prices, groups and lines")
	}
	seen := map[string]bool{}
	for _, p := range s.Prices {
		if err := newID(seen, "price", p.ID); err != nil {
			return err
		}
		if p.Amount <= 0 || strings.TrimSpace(p.Per) == "" {
			return fmt.Errorf("price %s needs a positive amount and the unit it buys (per)", p.ID)
		}
		if strings.TrimSpace(p.Source) == "" || !datePattern.MatchString(p.Date) {
			return fmt.Errorf("price %s needs a source and the date it was read (YYYY-MM-DD)", p.ID)
		}
	}
	for _, g := range s.Groups {
		if err := newID(seen, "group", g.ID); err != nil {
			return err
		}
	}
	for _, l := range s.Lines {
		if err := newID(seen, "line", l.ID); err != nil {
			return err
		}
		if s.group(l.Group) == nil {
			return fmt.Errorf("line %s names no group %q", l.ID, l.Group)
		}
		if s.price(l.Price) == nil {
			return fmt.Errorf("line %s names no price %q", l.ID, l.Price)
		}
		if len(l.Terms) == 0 || strings.TrimSpace(l.Why) == "" {
			return fmt.Errorf("line %s needs terms and why", l.ID)
		}
		for i, t := range l.Terms {
			if len(t) == 0 {
				return fmt.Errorf("line %s: term %d has no factors", l.ID, i+1)
			}
			for _, f := range t {
				if f.Value <= 0 || strings.TrimSpace(f.Unit) == "" {
					return fmt.Errorf("line %s: every factor needs a positive value and a unit", l.ID)
				}
			}
		}
		if l.Free < 0 {
			return fmt.Errorf("line %s: free must not be negative", l.ID)
		}
	}
	if s.group(s.Cheaper) == nil {
		return fmt.Errorf("cheaper names no group %q", s.Cheaper)
	}
	if got := s.cheapest(); got != s.Cheaper {
		return fmt.Errorf("cheaper is %s, but by the sheet's own arithmetic %s costs less", s.Cheaper, got)
	}
	return nil
}

func newID(seen map[string]bool, what, id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%s id %q must be lower-case letters, digits and dashes", what, id)
	}
	if seen[id] {
		return fmt.Errorf("id %q appears twice", id)
	}
	seen[id] = true
	return nil
}

func (s *Sheet) price(id string) *Price {
	for i := range s.Prices {
		if s.Prices[i].ID == id {
			return &s.Prices[i]
		}
	}
	return nil
}

func (s *Sheet) group(id string) *Group {
	for i := range s.Groups {
		if s.Groups[i].ID == id {
			return &s.Groups[i]
		}
	}
	return nil
}

func (s *Sheet) line(id string) *Line {
	for i := range s.Lines {
		if s.Lines[i].ID == id {
			return &s.Lines[i]
		}
	}
	return nil
}

// total is the sum of a group's line costs, each rounded to the cent as a
// bill shows it.
func (s *Sheet) total(group string) float64 {
	sum := 0.0
	for _, l := range s.Lines {
		if l.Group == group {
			sum += cents(s.lineCost(l))
		}
	}
	return sum
}

func (s *Sheet) cheapest() string {
	best, bestTotal := "", 0.0
	for _, g := range s.Groups {
		if t := s.total(g.ID); best == "" || t < bestTotal {
			best, bestTotal = g.ID, t
		}
	}
	return best
}
