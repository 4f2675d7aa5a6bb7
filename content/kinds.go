package content

import (
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// KindChecker judges what only an exercise's kind understands: the kind
// itself, its scenario and params, its lab and the check ids known-wrong
// answers name. The course loader knows nothing of grading, so whoever
// wires the program (cmd) provides it from the grader's kinds.
type KindChecker interface {
	KindProblems(ex *Exercise) []KindProblem
}

// KindProblem is one thing wrong with an exercise for its kind, at a path of
// keys (and list indexes) from the top of its front matter, such as
// ["scenario", "helth"]; the loader turns the path into a line.
type KindProblem struct {
	Path    []string
	Message string
}

// Option changes how a course is loaded.
type Option func(*loader)

// WithKinds makes the loader check every exercise against its kind with k:
// a course whose exercises their kinds cannot grade does not load.
func WithKinds(k KindChecker) Option {
	return func(l *loader) { l.kinds = k }
}

// checkKind reports what the kind checker finds wrong with ex, at the lines
// of its front matter, and reports whether it found nothing.
func (l *loader) checkKind(f fields, meta *yaml.Node, ex *Exercise) bool {
	if l.kinds == nil {
		return true
	}
	ps := l.kinds.KindProblems(ex)
	for _, p := range ps {
		f.p.add(f.file, f.line(nodeAt(meta, p.Path)), "%s", p.Message)
	}
	return len(ps) == 0
}

// nodeAt returns the node the path leads to in a front matter mapping: the
// key of the last mapping entry found, or the item of a list. When the path
// goes further than the front matter (a key that is missing), it returns
// the deepest node found, whose line is where the key belongs.
func nodeAt(n *yaml.Node, path []string) *yaml.Node {
	at := n
	for _, step := range path {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == step {
					at, n, found = n.Content[i], n.Content[i+1], true
					break
				}
			}
			if !found {
				return at
			}
		case yaml.SequenceNode:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(n.Content) {
				return at
			}
			at, n = n.Content[i], n.Content[i]
		default:
			return at
		}
	}
	return at
}
