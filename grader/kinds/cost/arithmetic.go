package cost

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// gross is a line's usage before any free allowance.
func (l Line) gross() float64 {
	sum := 0.0
	for _, t := range l.Terms {
		p := 1.0
		for _, f := range t {
			p *= f.Value
		}
		sum += p
	}
	return sum
}

// usage is the billed quantity of a line, in its price's unit.
func (l Line) usage() float64 { return math.Max(0, l.gross()-l.Free) }

func (s *Sheet) lineCost(l Line) float64 { return l.usage() * s.price(l.Price).Amount }

// explain writes a line's arithmetic out in full, the way a reader checks
// it by hand: every factor with its unit, minimums and free allowances
// named, the price with its source and date, and the result.
func (s *Sheet) explain(l Line) string {
	var terms []string
	for _, t := range l.Terms {
		var fs []string
		for _, f := range t {
			fs = append(fs, number(f.Value)+" "+f.Unit)
		}
		term := strings.Join(fs, " × ")
		if len(l.Terms) > 1 && len(t) > 1 {
			term = "(" + term + ")"
		}
		terms = append(terms, term)
	}
	p := s.price(l.Price)
	b := &strings.Builder{}
	b.WriteString(strings.Join(terms, " + "))
	if len(l.Terms) > 1 || len(l.Terms[0]) > 1 {
		fmt.Fprintf(b, " = %s", number(l.gross()))
	}
	if l.Free > 0 {
		fmt.Fprintf(b, " − %s free = %s", number(l.Free), number(l.usage()))
	}
	fmt.Fprintf(b, "; %s × %s per %s [%s, read %s] = %s", number(l.usage()), rate(p.Amount), p.Per, p.Source, p.Date, money(s.lineCost(l)))
	return b.String()
}

// number prints a quantity with thousands separators and at most four
// decimals, trailing zeros dropped.
func number(v float64) string {
	s := strconv.FormatFloat(v, 'f', 4, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var groups []string
	for len(intPart) > 3 {
		groups = append([]string{intPart[len(intPart)-3:]}, groups...)
		intPart = intPart[:len(intPart)-3]
	}
	groups = append([]string{intPart}, groups...)
	out := strings.Join(groups, ",")
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// rate prints a unit price with as many digits as it has, and at least
// the two of a dollar amount ($0.50, $0.000024).
func rate(v float64) string {
	s := strings.TrimRight(strconv.FormatFloat(v, 'f', 8, 64), "0")
	if _, frac, _ := strings.Cut(s, "."); len(frac) < 2 {
		s += strings.Repeat("0", 2-len(frac))
	}
	return "$" + s
}

func money(v float64) string { return "$" + number(cents(v)) + zeroCents(cents(v)) }

// zeroCents pads a money amount to two decimals ("$16.2" → "$16.20").
func zeroCents(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	_, frac, ok := strings.Cut(s, ".")
	switch {
	case !ok:
		return ".00"
	case len(frac) == 1:
		return "0"
	}
	return ""
}

func cents(v float64) float64 { return math.Round(v*100) / 100 }
