package grader

import (
	"math"
	"strings"
)

// clipRunes is how much of a student's value a message quotes.
const clipRunes = 80

// Clip shortens what a student wrote for quoting in a message, so that one
// pasted blob does not drown the feedback. Every kind quotes through it, so
// every exercise quotes the same amount.
func Clip(s string) string {
	if r := []rune(s); len(r) > clipRunes {
		return string(r[:clipRunes-1]) + "…"
	}
	return s
}

// Suggest returns the known name a mistyped one most likely meant, or "" when
// none is close: first a name that differs only in case, hyphens or
// underscores (the usual slips between JSON, YAML and documentation), then
// the nearest by edit distance when it is within a quarter of its length (at
// least two edits). Every kind's "did you mean" comes from here.
func Suggest(name string, known []string) string {
	norm := func(s string) string { return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(s)) }
	for _, k := range known {
		if norm(k) == norm(name) {
			return k
		}
	}
	best, bestD := "", math.MaxInt
	for _, k := range known {
		if d := EditDistance(strings.ToLower(name), strings.ToLower(k)); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if best != "" && (bestD <= 2 || bestD <= len(best)/4) {
		return best
	}
	return ""
}

// EditDistance is the Levenshtein distance between a and b; long strings are
// never close to anything, so they are not compared.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 100 || len(rb) > 100 {
		return 100
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
