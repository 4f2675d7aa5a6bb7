package content

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// document is a Markdown file split into its front matter and body.
type document struct {
	meta     *yaml.Node // the front matter's mapping, nil when there is none
	metaBase int        // file line of the front matter's first line, minus one
	body     []byte
	bodyLine int // file line of the body's first line
}

// splitDocument separates the YAML front matter (between two "---" lines at
// the top of the file) from the Markdown body.
func splitDocument(file string, src []byte, p *problems) document {
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	first, rest, found := bytes.Cut(src, []byte("\n"))
	if !found || strings.TrimRight(string(first), " \t\r") != "---" {
		return document{body: src, bodyLine: 1}
	}
	line := 2
	offset := len(first) + 1
	for len(rest) > 0 {
		l, next, _ := bytes.Cut(rest, []byte("\n"))
		if t := strings.TrimRight(string(l), " \t\r"); t == "---" || t == "..." {
			doc := document{metaBase: 1, body: next, bodyLine: line + 1}
			doc.meta = parseYAML(file, 1, src[len(first)+1:offset], "front matter", p)
			return doc
		}
		offset += len(l) + 1
		rest = next
		line++
	}
	p.add(file, 1, "the front matter starts with --- but has no closing --- line")
	return document{metaBase: 1, bodyLine: line}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML parses a YAML mapping whose first line is file line base+1 and
// reports what is wrong with it.
func parseYAML(file string, base int, src []byte, what string, p *problems) *yaml.Node {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		msg := err.Error()
		line := 1
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		if l := firstBadLine(src); l > 0 {
			line = l
		}
		p.add(file, base+line, "the %s is not valid YAML: %s", what, msg)
		return nil
	}
	if len(root.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Line: 1}
	}
	n := root.Content[0]
	if n.Kind != yaml.MappingNode {
		p.add(file, base+n.Line, "the %s must be a set of \"key: value\" lines", what)
		return nil
	}
	return n
}

// firstBadLine returns the first line at which src stops being valid YAML,
// or 0. The YAML parser reports the line where the enclosing block began,
// which in a long list points authors at the wrong entry; the shortest
// failing prefix points at the line they must fix.
func firstBadLine(src []byte) int {
	lines := bytes.SplitAfter(src, []byte("\n"))
	if len(lines) > 500 {
		return 0
	}
	var node yaml.Node
	end := 0
	for i, l := range lines {
		end += len(l)
		if yaml.Unmarshal(src[:end], &node) != nil {
			return i + 1
		}
	}
	return 0
}

// fields reads the keys of one YAML mapping and reports, with file lines,
// every key or value that is wrong.
type fields struct {
	file string
	base int // added to a node's line to get the file line
	p    *problems
}

// entry is one key of a mapping.
type entry struct {
	Key   string
	Line  int // file line of the key
	Value *yaml.Node
}

func (f fields) line(n *yaml.Node) int { return f.base + n.Line }

func (f fields) problem(n *yaml.Node, format string, args ...any) {
	f.p.add(f.file, f.line(n), format, args...)
}

// entries lists the keys of mapping m in order, reporting duplicates.
func (f fields) entries(m *yaml.Node) []entry {
	if m == nil {
		return nil
	}
	seen := map[string]int{}
	var out []entry
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			f.problem(k, "a key must be a plain word")
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			f.problem(k, "%s is given twice (first on line %d)", k.Value, prev)
			continue
		}
		seen[k.Value] = f.line(k)
		out = append(out, entry{Key: k.Value, Line: f.line(k), Value: v})
	}
	return out
}

// mapping checks that e's value is a mapping and returns it.
func (f fields) mapping(e entry) (*yaml.Node, bool) {
	if e.Value.Kind != yaml.MappingNode {
		f.problem(e.Value, "%s must be a set of \"key: value\" lines, not %s", e.Key, describe(e.Value))
		return nil, false
	}
	return e.Value, true
}

// list checks that e's value is a list and returns its items.
func (f fields) list(e entry) ([]*yaml.Node, bool) {
	if e.Value.Kind != yaml.SequenceNode {
		f.problem(e.Value, "%s must be a list, not %s", e.Key, describe(e.Value))
		return nil, false
	}
	return e.Value.Content, true
}

// text returns e's value as a string; any scalar but null will do.
func (f fields) text(e entry) (string, bool) {
	return f.textNode(e.Key, e.Value)
}

func (f fields) textNode(what string, n *yaml.Node) (string, bool) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		f.problem(n, "%s must be text, not %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

// integer returns e's value as a whole number between lo and hi.
func (f fields) integer(e entry, lo, hi int64) (int64, bool) {
	n := e.Value
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		f.problem(n, "%s must be a whole number, not %s", e.Key, describe(n))
		return 0, false
	}
	if v < lo || v > hi {
		f.problem(n, "%s must be between %d and %d, not %d", e.Key, lo, hi, v)
		return 0, false
	}
	return v, true
}

// number returns e's value as a number between lo and hi.
func (f fields) number(e entry, lo, hi float64) (float64, bool) {
	n := e.Value
	var v float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&v) != nil || math.IsNaN(v) {
		f.problem(n, "%s must be a number, not %s", e.Key, describe(n))
		return 0, false
	}
	if v < lo || v > hi {
		f.problem(n, "%s must be between %g and %g, not %g", e.Key, lo, hi, v)
		return 0, false
	}
	return v, true
}

// boolean returns e's value as true or false.
func (f fields) boolean(e entry) (bool, bool) {
	n := e.Value
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		f.problem(n, "%s must be true or false, not %s", e.Key, describe(n))
		return false, false
	}
	return v, true
}

// duration returns e's value as a positive duration such as "30s".
func (f fields) duration(e entry, max time.Duration) (time.Duration, bool) {
	s, ok := f.text(e)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		f.problem(e.Value, "%s must be a duration such as 30s or 1m, not %q", e.Key, s)
		return 0, false
	}
	if d > max {
		f.problem(e.Value, "%s must be at most %s, not %s", e.Key, max, d)
		return 0, false
	}
	return d, true
}

// anyMap decodes e's value, a mapping, into plain Go values.
func (f fields) anyMap(e entry) (map[string]any, bool) {
	n, ok := f.mapping(e)
	if !ok {
		return nil, false
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		f.problem(n, "%s cannot be read: %v", e.Key, err)
		return nil, false
	}
	return m, true
}

// unknown reports a key the file format does not have.
func (f fields) unknown(e entry, known ...string) {
	if s := suggest(e.Key, known); s != "" {
		f.p.add(f.file, e.Line, "unknown key %q: did you mean %q? (known keys: %s)", e.Key, s, strings.Join(known, ", "))
		return
	}
	f.p.add(f.file, e.Line, "unknown key %q (known keys: %s)", e.Key, strings.Join(known, ", "))
}

// describe names a YAML value for a message: "the text \"abc\"", "a list".
func describe(n *yaml.Node) string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a set of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		switch n.Tag {
		case "!!null":
			return "empty"
		case "!!str":
			return fmt.Sprintf("the text %q", v)
		default:
			return v
		}
	}
	return "this value"
}

// slugPattern is what lesson slugs, module ids, exercise ids and quiz ids
// look like: they appear in URLs and HTML ids.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
