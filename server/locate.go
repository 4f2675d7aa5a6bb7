package server

import (
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// fieldLine returns the 1-based line of body that field points at, or 0.
// field is a JSON Pointer ("/containerDefinitions/0/memory") or a dotted
// YAML path ("spec.template.spec.containers[0].image"). JSON is read as
// YAML, whose parser keeps line numbers. When the path stops early (the
// field is missing), the line of the deepest part found is returned.
func fieldLine(body []byte, field string) int {
	if m := lineColumn.FindStringSubmatch(field); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(body, &doc); err != nil || len(doc.Content) == 0 {
		return 0
	}
	node := doc.Content[0]
	line := 0
	for _, part := range splitField(field) {
		next, at := child(node, part)
		if next == nil {
			break
		}
		node, line = next, at
	}
	return line
}

var lineColumn = regexp.MustCompile(`^line (\d+)(?:, column \d+)?`)

func splitField(field string) []string {
	if field == "" || field == "/" {
		return nil
	}
	if strings.HasPrefix(field, "/") {
		parts := strings.Split(field[1:], "/")
		for i, p := range parts {
			parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		}
		return parts
	}
	var parts []string
	for _, p := range strings.Split(field, ".") {
		// containers[0] → containers, 0
		for {
			i := strings.IndexByte(p, '[')
			if i < 0 || !strings.HasSuffix(p, "]") {
				break
			}
			if i > 0 {
				parts = append(parts, p[:i])
			}
			rest := p[i+1:]
			j := strings.IndexByte(rest, ']')
			parts = append(parts, rest[:j])
			p = rest[j+1:]
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

// child returns the node under key (or index) and the line to point at.
func child(n *yaml.Node, key string) (*yaml.Node, int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		i, err := strconv.Atoi(key)
		if err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i].Line
		}
	}
	return nil, 0
}
