package grader

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Type is the type of a value in an exercise's front matter.
type Type string

// Types of front matter values.
const (
	TypeText     Type = "text"
	TypeInteger  Type = "whole number"
	TypeNumber   Type = "number"
	TypeBoolean  Type = "true or false"
	TypeDuration Type = "duration"
	TypeList     Type = "list"
	// TypeObject has the keys its Fields name and no others.
	TypeObject Type = "set of keys"
	// TypeMap has keys the author chooses, each with a value of type Elem.
	TypeMap Type = "map"
)

// Field is one key of a scenario or params block, as a kind reads it.
type Field struct {
	Name     string
	Type     Type
	Doc      string
	Required bool
	// Min and Max bound a number or a duration (in seconds) when set.
	Min, Max *float64
	// OneOf lists the only values the kind can honour, when set, and Why
	// says why no other value works.
	OneOf []string
	Why   string
	// Fields are the keys of an object.
	Fields []Field
	// Elem is the type of the items of a list or the values of a map.
	Elem *Field
}

// Text is a key whose value is text.
func Text(name, doc string) Field { return Field{Name: name, Type: TypeText, Doc: doc} }

// Integer is a key whose value is a whole number from lo to hi.
func Integer(name, doc string, lo, hi float64) Field {
	return Field{Name: name, Type: TypeInteger, Doc: doc, Min: &lo, Max: &hi}
}

// Number is a key whose value is a number from lo to hi.
func Number(name, doc string, lo, hi float64) Field {
	return Field{Name: name, Type: TypeNumber, Doc: doc, Min: &lo, Max: &hi}
}

// Duration is a key whose value is a duration ("10s", or seconds) from lo
// to hi.
func Duration(name, doc string, lo, hi time.Duration) Field {
	l, h := lo.Seconds(), hi.Seconds()
	return Field{Name: name, Type: TypeDuration, Doc: doc, Min: &l, Max: &h}
}

// Object is a key whose value has the given keys and no others.
func Object(name, doc string, fields ...Field) Field {
	return Field{Name: name, Type: TypeObject, Doc: doc, Fields: fields}
}

// List is a key whose value is a list of elem.
func List(name, doc string, elem Field) Field {
	return Field{Name: name, Type: TypeList, Doc: doc, Elem: &elem}
}

// Map is a key whose value has keys of the author's choosing, each an elem.
func Map(name, doc string, elem Field) Field {
	return Field{Name: name, Type: TypeMap, Doc: doc, Elem: &elem}
}

// Need marks a key the kind cannot do without.
func (f Field) Need() Field { f.Required = true; return f }

// Only restricts the values to vals, for why.
func (f Field) Only(why string, vals ...string) Field { f.OneOf, f.Why = vals, why; return f }

// Schema is what a kind reads from an exercise's front matter, so that an
// author's mistake is reported when the course loads, with its line, instead
// of when a student submits.
type Schema struct {
	// Scenario and Params are the keys of the scenario: and params: blocks;
	// a kind that reads no params has none, and then params: is refused.
	Scenario []Field
	Params   []Field
	// Checks are the check ids a known-wrong answer may name in fails:
	// (path.Match patterns for ids that depend on the scenario).
	Checks []string
	// Labs names the lab programs the kind runs, for lab:; empty when it
	// runs none.
	Labs []string
	// Answer says what a student submits; Lab what the lab can and cannot
	// play of the scenario. Both are for the authoring reference.
	Answer string
	Lab    string
}

// Schemer is implemented by kinds that declare their front matter.
type Schemer interface {
	Schema() Schema
}

// SpecChecker is implemented by kinds that check what a schema cannot say
// (a range whose minimum exceeds its maximum, an answer that names a row
// the grid lacks), in the author's words. The engine asks only once the
// schema found nothing wrong.
type SpecChecker interface {
	CheckSpec(spec Spec) []SpecProblem
}

// SpecProblem is one thing wrong with an exercise's front matter, at a path
// of keys (and list indexes) from the top of the front matter, such as
// ["scenario", "helth"].
type SpecProblem struct {
	Path    []string
	Message string
}

// validateBlock checks the values of one block (scenario or params) against
// fields and returns every problem.
func validateBlock(block string, fields []Field, v map[string]any) []SpecProblem {
	var out []SpecProblem
	validateObject([]string{block}, fields, v, &out)
	return out
}

func validateObject(at []string, fields []Field, v map[string]any, out *[]SpecProblem) {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i := slices.Index(names, k)
		if i < 0 {
			msg := fmt.Sprintf("unknown key %q in %s", k, strings.Join(at, "."))
			if s := Suggest(k, names); s != "" {
				msg += fmt.Sprintf(": did you mean %q?", s)
			} else {
				msg += fmt.Sprintf(" (known keys: %s)", strings.Join(names, ", "))
			}
			*out = append(*out, SpecProblem{Path: keyPath(at, k), Message: msg})
			continue
		}
		validateValue(keyPath(at, k), fields[i], v[k], out)
	}
	for _, f := range fields {
		if _, ok := v[f.Name]; !ok && f.Required {
			*out = append(*out, SpecProblem{Path: at, Message: fmt.Sprintf("%s needs %s: (%s)", strings.Join(at, "."), f.Name, f.Doc)})
		}
	}
}

func keyPath(at []string, k string) []string { return append(slices.Clip(at), k) }

func validateValue(at []string, f Field, v any, out *[]SpecProblem) {
	name := strings.Join(at, ".")
	bad := func(format string, args ...any) {
		*out = append(*out, SpecProblem{Path: at, Message: name + " " + fmt.Sprintf(format, args...)})
	}
	if v == nil {
		if f.Required {
			bad("must be %s, not empty", article(f.Type))
		}
		return
	}
	switch f.Type {
	case TypeText:
		s, ok := scalarText(v)
		if !ok {
			bad("must be text, not %s", describeValue(v))
			return
		}
		if len(f.OneOf) > 0 && !slices.Contains(f.OneOf, s) {
			bad("is %q, but it must be %s: %s", s, orList(f.OneOf), f.Why)
		}
	case TypeInteger, TypeNumber:
		n, ok := number(v)
		if !ok || (f.Type == TypeInteger && n != math.Trunc(n)) {
			bad("must be %s, not %s", article(f.Type), describeValue(v))
			return
		}
		checkRange(f, n, strconv.FormatFloat(n, 'f', -1, 64), bad)
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			bad("must be true or false, not %s", describeValue(v))
		}
	case TypeDuration:
		d, ok := duration(v)
		if !ok {
			bad("must be a duration such as 10s, not %s", describeValue(v))
			return
		}
		checkRange(f, d.Seconds(), d.String(), bad)
	case TypeList:
		items, ok := v.([]any)
		if !ok {
			bad("must be a list, not %s", describeValue(v))
			return
		}
		if f.Elem != nil {
			for i, item := range items {
				validateValue(keyPath(at, strconv.Itoa(i)), *f.Elem, item, out)
			}
		}
	case TypeObject:
		m, ok := v.(map[string]any)
		if !ok {
			bad("must be a set of keys (%s), not %s", fieldNames(f.Fields), describeValue(v))
			return
		}
		validateObject(at, f.Fields, m, out)
	case TypeMap:
		m, ok := v.(map[string]any)
		if !ok {
			bad("must be a set of \"key: value\" lines, not %s", describeValue(v))
			return
		}
		if f.Elem != nil {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				validateValue(keyPath(at, k), *f.Elem, m[k], out)
			}
		}
	}
	if len(f.OneOf) > 0 && f.Type != TypeText {
		if s, ok := scalarText(v); ok && !slices.Contains(f.OneOf, s) {
			bad("is %s, but it must be %s: %s", s, orList(f.OneOf), f.Why)
		}
	}
}

func checkRange(f Field, n float64, shown string, bad func(string, ...any)) {
	switch {
	case f.Min != nil && f.Max != nil && (n < *f.Min || n > *f.Max):
		bad("must be between %g and %g, not %s", *f.Min, *f.Max, shown)
	case f.Min != nil && n < *f.Min:
		bad("must be at least %g, not %s", *f.Min, shown)
	case f.Max != nil && n > *f.Max:
		bad("must be at most %g, not %s", *f.Max, shown)
	}
}

func scalarText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case int, int64, float64, bool:
		return fmt.Sprint(t), true
	}
	return "", false
}

func number(v any) (float64, bool) {
	switch t := v.(type) {
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case uint64:
		return float64(t), true
	case float64:
		return t, !math.IsNaN(t)
	}
	return 0, false
}

// duration reads "10s" or a number of seconds, as the kinds do.
func duration(v any) (time.Duration, bool) {
	if n, ok := number(v); ok {
		return time.Duration(n * float64(time.Second)), true
	}
	s, ok := v.(string)
	if !ok {
		return 0, false
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

func describeValue(v any) string {
	switch t := v.(type) {
	case string:
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		return fmt.Sprintf("the text %q", t)
	case []any:
		return "a list"
	case map[string]any:
		return "a set of keys"
	case bool:
		return fmt.Sprint(t)
	}
	return fmt.Sprint(v)
}

func article(t Type) string {
	switch t {
	case TypeInteger, TypeNumber, TypeDuration, TypeList, TypeObject, TypeMap:
		return "a " + string(t)
	}
	return string(t)
}

func fieldNames(fs []Field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func orList(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}
