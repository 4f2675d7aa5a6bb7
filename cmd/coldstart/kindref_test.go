package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/kinds"
)

var updateDocs = flag.Bool("update", false, "rewrite the kind reference in docs/authoring.md")

const (
	refBegin = "<!-- kind reference: generated from each kind's schema and scoring by `go test ./cmd/coldstart -run TestAuthoringReference -update` -->"
	refEnd   = "<!-- end of kind reference -->"
)

// The per-kind reference of docs/authoring.md is written from the kinds'
// own declarations, so it cannot drift from what check enforces.
func TestAuthoringReference(t *testing.T) {
	const file = "../../docs/authoring.md"
	doc, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(doc), refBegin)
	_, after, ok2 := strings.Cut(rest, refEnd)
	if !ok || !ok2 {
		t.Fatalf("%s has no generated kind reference between %q and %q", file, refBegin, refEnd)
	}
	want := refBegin + "\n\n" + kindReference(grader.NewEngine(nil, nil, kinds.All()...)) + "\n" + refEnd
	if strings.Contains(string(doc), want) {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(file, []byte(before+want+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the kind reference of %s is out of date: run go test ./cmd/coldstart -run TestAuthoringReference -update", file)
}

// kindReference renders every kind's schema and scoring as Markdown.
func kindReference(eng *grader.Engine) string {
	var b strings.Builder
	for i, name := range eng.Kinds() {
		if i > 0 {
			b.WriteString("\n")
		}
		s, _ := eng.Schema(name)
		fmt.Fprintf(&b, "### `kind: %s`\n\n", name)
		fmt.Fprintf(&b, "**Answer:** %s.\n\n", s.Answer)
		if len(s.Labs) > 0 {
			fmt.Fprintf(&b, "**`lab:`** %s.\n\n", codeList(s.Labs))
		}
		writeFields(&b, "scenario", s.Scenario)
		writeFields(&b, "params", s.Params)
		fmt.Fprintf(&b, "**Check ids for `fails:`:** %s.\n\n", codeList(s.Checks))
		fmt.Fprintf(&b, "**What the lab can and cannot play:** %s\n\n", s.Lab)
		k, _ := eng.Kind(name)
		if sc, ok := k.(grader.Scorer); ok {
			writeScoring(&b, sc.Scoring(grader.Spec{Kind: name}))
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func writeFields(b *strings.Builder, block string, fields []grader.Field) {
	if len(fields) == 0 {
		fmt.Fprintf(b, "**`%s:`** none; the kind refuses the block.\n\n", block)
		return
	}
	fmt.Fprintf(b, "**`%s:`**\n\n| key | type | allowed | meaning |\n|---|---|---|---|\n", block)
	var walk func(prefix string, f grader.Field)
	walk = func(prefix string, f grader.Field) {
		key := prefix + f.Name
		if f.Type != grader.TypeObject || f.Name != "" {
			fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", key, typeName(f), allowed(f), f.Doc)
		}
		switch {
		case f.Type == grader.TypeObject:
			for _, sub := range f.Fields {
				walk(key+".", sub)
			}
		case f.Type == grader.TypeList && f.Elem != nil && f.Elem.Type == grader.TypeObject:
			for _, sub := range f.Elem.Fields {
				walk(key+"[].", sub)
			}
		case f.Type == grader.TypeMap && f.Elem != nil && (f.Elem.Type == grader.TypeObject || f.Elem.Type == grader.TypeMap):
			walk(key+".<key>", *f.Elem)
		}
	}
	for _, f := range fields {
		walk("", f)
	}
	b.WriteString("\n")
}

func typeName(f grader.Field) string {
	switch {
	case f.Type == grader.TypeList && f.Elem != nil && f.Elem.Type != grader.TypeObject:
		return "list of " + string(f.Elem.Type)
	case f.Type == grader.TypeMap && f.Elem != nil && f.Elem.Type != grader.TypeObject && f.Elem.Type != grader.TypeMap:
		return "map of " + string(f.Elem.Type)
	}
	return string(f.Type)
}

func allowed(f grader.Field) string {
	var parts []string
	if f.Required {
		parts = append(parts, "required")
	}
	for _, g := range []grader.Field{f, elem(f)} {
		if g.Min != nil && g.Max != nil {
			parts = append(parts, fmt.Sprintf("%g–%g", *g.Min, *g.Max))
		}
		if len(g.OneOf) > 0 {
			parts = append(parts, "only "+codeList(g.OneOf))
		}
	}
	return strings.Join(parts, "; ")
}

func elem(f grader.Field) grader.Field {
	if f.Elem != nil {
		return *f.Elem
	}
	return grader.Field{}
}

func writeScoring(b *strings.Builder, s grader.Scoring) {
	b.WriteString("**Scoring:**")
	if len(s.Weights) > 0 {
		var ws []string
		for _, id := range sortedKeys(s.Weights) {
			ws = append(ws, fmt.Sprintf("`%s` %g", id, s.Weights[id]))
		}
		fmt.Fprintf(b, " weights %s (other checks as the result shows them, mostly 1);", strings.Join(ws, ", "))
	}
	if len(s.Subjects) > 0 {
		var vs []string
		for _, id := range sortedKeys(s.Subjects) {
			vs = append(vs, fmt.Sprintf("`%s` when %s is empty", id, codeList(s.Subjects[id])))
		}
		fmt.Fprintf(b, " earns and counts nothing: %s;", strings.Join(vs, ", "))
	}
	if len(s.Requires) > 0 {
		var rs []string
		for _, id := range sortedKeys(s.Requires) {
			rs = append(rs, fmt.Sprintf("`%s` until %s passes", id, codeList(s.Requires[id])))
		}
		fmt.Fprintf(b, " earns nothing: %s;", strings.Join(rs, ", "))
	}
	if len(s.Core) > 0 {
		fmt.Fprintf(b, " core (the score is at most %g%% until they pass): %s.", grader.CoreCap*100, codeList(s.Core))
	} else {
		b.WriteString(" no core checks.")
	}
	b.WriteString("\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func codeList(vs []string) string {
	vs = slices.Clone(vs)
	for i, v := range vs {
		vs[i] = "`" + v + "`"
	}
	return strings.Join(vs, ", ")
}
