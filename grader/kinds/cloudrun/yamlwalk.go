package cloudrun

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"coldstart/grader"
)

// This file is the strict YAML walker the service parser is built on: every
// mapping is read key by key, unknown keys are reported with a suggestion,
// and every problem carries the YAML path and line of the node.

// yamlError turns a yaml.v3 error into an InputError with its line.
func yamlError(err error) *grader.InputError {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	ie := &grader.InputError{Line: line, Message: "malformed YAML: " + msg}
	if line > 0 {
		ie.Column = 1
	}
	return ie
}

type parser struct {
	svc *Service
}

func (p *parser) add(check, path string, n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.svc.problems = append(p.svc.problems, problem{check: check, path: path, line: line, msg: fmt.Sprintf(format, args...)})
}

// object walks a mapping, remembering which keys were asked for so that
// done can report the others as unknown.
type object struct {
	p     *parser
	path  string
	node  *yaml.Node
	known []string
	vals  map[string]*yaml.Node
	keys  map[string]*yaml.Node
}

func (p *parser) object(n *yaml.Node, path string) *object {
	o := &object{p: p, path: path, node: n, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	if n == nil {
		return o
	}
	if n.Kind != yaml.MappingNode {
		p.add("cloudrun.schema", path, n, "%s must be a mapping of fields, not %s", path, describe(n))
		return o
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add("cloudrun.schema", path, k, "%s has a key that is not a plain name", path)
			continue
		}
		if _, dup := o.vals[k.Value]; dup {
			p.add("cloudrun.schema", join(path, k.Value), k, "%s is given twice", join(path, k.Value))
			continue
		}
		if v.Kind == yaml.AliasNode || v.Anchor != "" {
			p.add("cloudrun.schema", join(path, k.Value), v, "%s uses a YAML anchor or alias; write the value out", join(path, k.Value))
			continue
		}
		o.vals[k.Value] = v
		o.keys[k.Value] = k
	}
	return o
}

// get returns the value of key, or nil when it is absent.
func (o *object) get(key string) *yaml.Node {
	o.known = append(o.known, key)
	v := o.vals[key]
	if v != nil {
		o.p.svc.Lines[join(o.path, key)] = v.Line
	}
	return v
}

// done reports every key that was never asked for.
func (o *object) done() {
	var unknown []string
	for k := range o.vals {
		if !contains(o.known, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		msg := fmt.Sprintf("%s is not a field of %s", join(o.path, k), orRoot(o.path))
		if s := grader.Suggest(k, o.known); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		} else {
			msg += fmt.Sprintf(" (known: %s)", strings.Join(o.known, ", "))
		}
		o.p.add("cloudrun.schema", join(o.path, k), o.keys[k], "%s", msg)
	}
}

func orRoot(path string) string {
	if path == "" {
		return "the service"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// stringMap reads labels or annotations: a mapping of names to scalars.
func (p *parser) stringMap(n *yaml.Node, path string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil {
		return out
	}
	o := p.object(n, path)
	for k, v := range o.vals {
		o.known = append(o.known, k)
		if v.Kind != yaml.ScalarNode {
			p.add("cloudrun.schema", annotationPath(path, k), v, "%s must be a single value, not %s", annotationPath(path, k), describe(v))
			continue
		}
		p.svc.Lines[annotationPath(path, k)] = v.Line
		out[k] = v
	}
	return out
}

func (p *parser) stringList(n *yaml.Node, path string) {
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.add("cloudrun.schema", path, n, "%s must be a list of strings, not %s", path, describe(n))
		return
	}
	for i, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			p.add("cloudrun.schema", fmt.Sprintf("%s[%d]", path, i), e, "%s[%d] must be a string, not %s", path, i, describe(e))
		}
	}
}

func (p *parser) str(n *yaml.Node, path, check string) (string, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!null") {
		p.add(check, path, n, "%s must be a string, not %s", path, describe(n))
		return "", false
	}
	return n.Value, true
}

// integer reads a whole number written as a YAML number (not a string).
func (p *parser) integer(n *yaml.Node, path, check string) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			if _, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				p.add(check, path, n, "%s must be a number, not the string %q: leave out the quotes", path, grader.Clip(n.Value))
				return 0, false
			}
		}
		p.add(check, path, n, "%s must be a whole number, not %s", path, describe(n))
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil {
		p.add(check, path, n, "%s is %s, which is far out of range", path, grader.Clip(n.Value))
		return 0, false
	}
	return v, true
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("the string %q", grader.Clip(n.Value))
		case "!!int", "!!float":
			return "the number " + grader.Clip(n.Value)
		case "!!bool":
			return n.Value
		case "!!null":
			return "nothing (null)"
		}
		return fmt.Sprintf("%q", grader.Clip(n.Value))
	}
	return "something else"
}
