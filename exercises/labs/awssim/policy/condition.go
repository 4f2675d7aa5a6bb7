package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Condition is one operator-key pair of a statement's Condition block, with
// the values the policy gives it.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLike"
	Key      string // as written, e.g. "aws:SourceAccount"
	Values   []string
	Pointer  string // JSON Pointer of the key inside the document
}

// truth is the value of a condition: true, false, or not evaluated.
type truth int

const (
	isFalse truth = iota
	isTrue
	unknown
)

// operator is a condition operator taken apart: the set qualifier, the
// family's matching function, whether it is negated, and IfExists.
type operator struct {
	forAll, forAny bool
	ifExists       bool
	negated        bool
	null           bool
	// match compares one request value with one policy value; ok is false
	// when a value cannot be read as the operator's type.
	match func(request, policy string) (matched, ok bool)
}

// The condition operators of the IAM User Guide, "IAM JSON policy elements:
// Condition operators". A negated operator is true when the request value
// matches none of the policy's values.
var operators = map[string]struct {
	match   func(request, policy string) (bool, bool)
	negated bool
}{
	"StringEquals":              {stringEquals, false},
	"StringNotEquals":           {stringEquals, true},
	"StringEqualsIgnoreCase":    {stringEqualsFold, false},
	"StringNotEqualsIgnoreCase": {stringEqualsFold, true},
	"StringLike":                {stringLike, false},
	"StringNotLike":             {stringLike, true},
	"ArnEquals":                 {arnLike, false},
	"ArnLike":                   {arnLike, false},
	"ArnNotEquals":              {arnLike, true},
	"ArnNotLike":                {arnLike, true},
	"Bool":                      {boolEquals, false},
	"NumericEquals":             {numeric(func(a, b float64) bool { return a == b }), false},
	"NumericNotEquals":          {numeric(func(a, b float64) bool { return a == b }), true},
	"NumericLessThan":           {numeric(func(a, b float64) bool { return a < b }), false},
	"NumericLessThanEquals":     {numeric(func(a, b float64) bool { return a <= b }), false},
	"NumericGreaterThan":        {numeric(func(a, b float64) bool { return a > b }), false},
	"NumericGreaterThanEquals":  {numeric(func(a, b float64) bool { return a >= b }), false},
	"DateEquals":                {date(func(a, b time.Time) bool { return a.Equal(b) }), false},
	"DateNotEquals":             {date(func(a, b time.Time) bool { return a.Equal(b) }), true},
	"DateLessThan":              {date(func(a, b time.Time) bool { return a.Before(b) }), false},
	"DateLessThanEquals":        {date(func(a, b time.Time) bool { return !a.After(b) }), false},
	"DateGreaterThan":           {date(func(a, b time.Time) bool { return a.After(b) }), false},
	"DateGreaterThanEquals":     {date(func(a, b time.Time) bool { return !a.Before(b) }), false},
	"IpAddress":                 {ipInRange, false},
	"NotIpAddress":              {ipInRange, true},
}

// parseOperator reads an operator name; ok is false for a name that is not
// a condition operator.
func parseOperator(name string) (operator, bool) {
	var op operator
	base := name
	if rest, ok := strings.CutPrefix(base, "ForAllValues:"); ok {
		op.forAll, base = true, rest
	} else if rest, ok := strings.CutPrefix(base, "ForAnyValue:"); ok {
		op.forAny, base = true, rest
	}
	if base == "Null" {
		op.null = true
		return op, true
	}
	if rest, ok := strings.CutSuffix(base, "IfExists"); ok {
		op.ifExists, base = true, rest
	}
	o, ok := operators[base]
	if !ok {
		return op, false
	}
	op.match, op.negated = o.match, o.negated
	return op, true
}

// eval decides the condition for a request context. Rules, from the IAM
// User Guide ("Condition operators" and "Single-valued vs. multivalued
// context keys"): a key missing from the request makes the condition false,
// except for a negated operator (true), …IfExists (true), Null, and
// ForAllValues (true); several policy values are ORed (NORed for a negated
// operator); ForAllValues needs every request value to match,
// ForAnyValue at least one.
func (c Condition) eval(ctx Context) (truth, string) {
	op, ok := parseOperator(c.Operator)
	if !ok {
		return unknown, fmt.Sprintf("the condition operator %s is not one the grader evaluates", c.Operator)
	}
	if !Modelled(c.Key) {
		return unknown, fmt.Sprintf("the condition key %s is not one the simulated calls carry", c.Key)
	}
	for _, v := range c.Values {
		if strings.Contains(v, "${") {
			return unknown, fmt.Sprintf("the policy variable in %q is not evaluated", v)
		}
	}
	got, present := ctx.Values(c.Key)
	if op.null {
		want, err := strconv.ParseBool(firstValue(c.Values))
		if err != nil || len(c.Values) != 1 {
			return unknown, fmt.Sprintf("Null takes \"true\" or \"false\", not %q", strings.Join(c.Values, ", "))
		}
		return of(want != present), ""
	}
	if !present || len(got) == 0 {
		switch {
		case op.forAll, op.ifExists, op.negated && !op.forAny:
			return isTrue, ""
		}
		return isFalse, ""
	}
	one := func(request string) (truth, string) {
		for _, p := range c.Values {
			m, ok := op.match(request, p)
			if !ok {
				return unknown, fmt.Sprintf("%q cannot be compared with %s", p, c.Operator)
			}
			if m {
				return of(!op.negated), ""
			}
		}
		return of(op.negated), ""
	}
	if op.forAll {
		for _, r := range got {
			if t, why := one(r); t != isTrue {
				return t, why
			}
		}
		return isTrue, ""
	}
	// ForAnyValue, and a plain operator (which AWS documents for
	// single-valued keys; every key the simulation carries has one value).
	for _, r := range got {
		if t, why := one(r); t != isFalse {
			return t, why
		}
	}
	return isFalse, ""
}

func of(b bool) truth {
	if b {
		return isTrue
	}
	return isFalse
}

func firstValue(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func stringEquals(r, p string) (bool, bool)     { return r == p, true }
func stringEqualsFold(r, p string) (bool, bool) { return strings.EqualFold(r, p), true }
func stringLike(r, p string) (bool, bool)       { return Match(p, r), true }
func boolEquals(r, p string) (bool, bool)       { return strings.EqualFold(r, p), true }

// arnLike compares ARNs as ArnEquals and ArnLike do: each of the six
// colon-separated parts on its own, each part case-sensitive with * and ?.
func arnLike(r, p string) (bool, bool) {
	rp, pp := strings.SplitN(r, ":", 6), strings.SplitN(p, ":", 6)
	if len(rp) != 6 || len(pp) != 6 {
		return false, true
	}
	for i := range rp {
		if !Match(pp[i], rp[i]) {
			return false, true
		}
	}
	return true, true
}

func numeric(cmp func(a, b float64) bool) func(string, string) (bool, bool) {
	return func(r, p string) (bool, bool) {
		a, err1 := strconv.ParseFloat(r, 64)
		b, err2 := strconv.ParseFloat(p, 64)
		if err1 != nil || err2 != nil {
			return false, false
		}
		return cmp(a, b), true
	}
}

func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func date(cmp func(a, b time.Time) bool) func(string, string) (bool, bool) {
	return func(r, p string) (bool, bool) {
		a, ok1 := parseDate(r)
		b, ok2 := parseDate(p)
		if !ok1 || !ok2 {
			return false, false
		}
		return cmp(a, b), true
	}
}

func ipInRange(r, p string) (bool, bool) {
	addr, err := netip.ParseAddr(r)
	if err != nil {
		return false, false
	}
	if !strings.Contains(p, "/") {
		a, err := netip.ParseAddr(p)
		return err == nil && a == addr, err == nil
	}
	pfx, err := netip.ParsePrefix(p)
	if err != nil {
		return false, false
	}
	return pfx.Contains(addr), true
}
