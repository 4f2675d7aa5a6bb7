package cloudrun

import (
	"errors"
	"math"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"coldstart/grader"
)

// Kubernetes resource quantities, as Cloud Run reads cpu and memory limits.

// quantity reads a Kubernetes-style quantity such as 1, 0.5, 500m, 512Mi or
// 2Gi, written as a number or a string.
func (p *parser) quantity(n *yaml.Node, path, check string) (float64, string, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float") {
		p.add(check, path, n, "%s must be a quantity such as \"1\" or \"512Mi\", not %s", path, describe(n))
		return 0, "", false
	}
	text := strings.TrimSpace(n.Value)
	q, err := parseQuantity(text)
	if err != nil {
		p.add(check, path, n, "%s is %q: %v", path, grader.Clip(text), err)
		return 0, "", false
	}
	return q, text, true
}

var quantitySuffixes = []struct {
	suffix string
	factor float64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
	{"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
}

func parseQuantity(s string) (float64, error) {
	if s == "" {
		return 0, errors.New("the value is empty")
	}
	num, factor := s, 1.0
	for _, sf := range quantitySuffixes {
		if strings.HasSuffix(s, sf.suffix) {
			num, factor = strings.TrimSuffix(s, sf.suffix), sf.factor
			break
		}
	}
	if num == "" || strings.ContainsAny(num, " \t") {
		return 0, errors.New("not a quantity: write a number with an optional suffix, such as 2, 500m, 512Mi or 1Gi")
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("not a quantity: write a number with an optional suffix, such as 2, 500m, 512Mi or 1Gi")
	}
	if v <= 0 {
		return 0, errors.New("it must be more than zero")
	}
	return v * factor, nil
}
