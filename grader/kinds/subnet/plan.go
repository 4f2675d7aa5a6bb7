package subnet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"

	"coldstart/grader"
)

// Answer is what a student submits: one subnet per Availability Zone.
type Answer struct {
	Subnets []string `json:"subnets"`
}

// ParseAnswer reads a submission strictly: one JSON object with a
// "subnets" list of strings and nothing else.
func ParseAnswer(body []byte) (Answer, error) {
	var a Answer
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return a, &grader.InputError{Message: fmt.Sprintf("%s: the answer has one field, \"subnets\"", strings.TrimPrefix(err.Error(), "json: "))}
		}
		if err.Error() == "EOF" {
			return a, &grader.InputError{Message: `the answer is empty; write {"subnets": ["CIDR", …]}`}
		}
		ie := grader.JSONError(body, err)
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field == "subnets" {
			ie.Field = "/subnets"
			if typ.Type.Kind() == reflect.String {
				ie.Message = fmt.Sprintf(`each subnet must be a string such as "10.0.0.0/28", not a JSON %s`, typ.Value)
			}
		}
		return a, ie
	}
	if dec.More() {
		off := dec.InputOffset()
		ie := &grader.InputError{Message: "unexpected text after the JSON object"}
		ie.Line, ie.Column = grader.LineColumn(body, off)
		return a, ie
	}
	if a.Subnets == nil {
		return a, &grader.InputError{Field: "/subnets", Message: `the answer needs a "subnets" list, e.g. {"subnets": ["10.0.0.0/28", "10.0.0.16/28"]}`}
	}
	return a, nil
}

// Check ids of the subnet kind.
const (
	CheckCount    = "subnet.count"
	CheckCIDR     = "subnet.cidr"
	CheckPrefix   = "subnet.prefix"
	CheckInVPC    = "subnet.within-vpc"
	CheckOverlap  = "subnet.overlap"
	CheckCapacity = "subnet.capacity"
	CheckSmallest = "subnet.smallest"
	CheckDeploy   = "subnet.deploy"
)

// entry is one submitted subnet as the static checks see it.
type entry struct {
	index  int
	raw    string
	prefix netip.Prefix
	ok     bool // a valid, aligned IPv4 CIDR
}

func (e entry) field() string { return fmt.Sprintf("/subnets/%d", e.index) }

// Plan is a judged answer: its static checks and, when the platform would
// create every subnet, the prefixes the run phase plays the deploy in.
type Plan struct {
	Checks []grader.Check
	// Subnets holds the submitted subnets when they are all valid, inside
	// the VPC, non-overlapping and one per AZ: only then is the deploy run.
	Subnets []netip.Prefix
	// Blocked says, when Subnets is nil, why the deploy is not played out.
	Blocked string
}

// maxListed bounds how many problems one message names.
const maxListed = 3

// Evaluate runs the static checks of an answer against a scenario.
func Evaluate(s Scenario, a Answer) Plan {
	var p Plan
	entries := make([]entry, len(a.Subnets))
	for i, raw := range a.Subnets {
		entries[i] = entry{index: i, raw: raw}
	}
	add := func(c grader.Check) { p.Checks = append(p.Checks, c) }
	none := len(entries) == 0
	skipEmpty := func(id, title string, pts float64) {
		add(grader.Check{ID: id, Title: title, Status: grader.CheckSkip, Field: "/subnets", Message: "no subnet was given", MaxPoints: pts})
	}

	// One subnet per AZ.
	count := grader.Check{ID: CheckCount, Title: "One subnet per Availability Zone", Field: "/subnets", MaxPoints: 1,
		Observed: fmt.Sprintf("%d subnets", len(entries)), Expected: fmt.Sprintf("%d subnets", s.AZs)}
	if len(entries) == s.AZs {
		count.Status, count.Points = grader.CheckPass, 1
	} else {
		count.Status = grader.CheckFail
		count.Message = fmt.Sprintf("the service runs in %d Availability Zones, so it needs %d subnets, one in each; the answer lists %d", s.AZs, s.AZs, len(entries))
	}
	add(count)

	// Valid, aligned IPv4 CIDR blocks.
	var bad []string
	firstBad := ""
	for i := range entries {
		e := &entries[i]
		msg := cidrProblem(e.raw)
		if msg == "" {
			e.prefix, e.ok = netip.MustParsePrefix(e.raw), true
			continue
		}
		if firstBad == "" {
			firstBad = e.field()
		}
		bad = append(bad, fmt.Sprintf("subnet %d: %s", e.index+1, msg))
	}
	if none {
		skipEmpty(CheckCIDR, "Every subnet is a valid, aligned IPv4 CIDR block", 1)
	} else {
		c := grader.Check{ID: CheckCIDR, Title: "Every subnet is a valid, aligned IPv4 CIDR block", MaxPoints: 1}
		if len(bad) == 0 {
			c.Status, c.Points = grader.CheckPass, 1
		} else {
			c.Status, c.Field, c.Message = grader.CheckFail, firstBad, list(bad)
		}
		add(c)
	}
	valid := make([]entry, 0, len(entries))
	for _, e := range entries {
		if e.ok {
			valid = append(valid, e)
		}
	}

	// Sizes AWS accepts.
	p.Checks = append(p.Checks, judge(valid, none, CheckPrefix, "Every subnet is between /16 and /28", 1, func(e entry) string {
		b := e.prefix.Bits()
		switch {
		case b > MaxPrefix:
			return fmt.Sprintf("%s is a /%d; AWS's smallest subnet is a /28 (16 addresses)", e.prefix, b)
		case b < MinPrefix:
			return fmt.Sprintf("%s is a /%d; AWS's largest subnet is a /16", e.prefix, b)
		}
		return ""
	}))

	// Inside the VPC.
	p.Checks = append(p.Checks, judge(valid, none, CheckInVPC, "Every subnet lies inside the VPC "+s.VPC.String(), 1, func(e entry) string {
		if e.prefix.Bits() >= s.VPC.Bits() && s.VPC.Contains(e.prefix.Addr()) {
			return ""
		}
		return fmt.Sprintf("%s (%s–%s) is not inside the VPC %s (%s–%s)", e.prefix, first(e.prefix), last(e.prefix), s.VPC, first(s.VPC), last(s.VPC))
	}))

	// No overlaps.
	var overlaps []string
	overlapField := ""
	for i := range valid {
		for j := i + 1; j < len(valid); j++ {
			a, b := valid[i], valid[j]
			if a.prefix.Overlaps(b.prefix) {
				if overlapField == "" {
					overlapField = b.field()
				}
				what := "overlaps"
				if a.prefix == b.prefix {
					what = "is the same block as"
				}
				overlaps = append(overlaps, fmt.Sprintf("subnet %d (%s) %s subnet %d (%s); subnets of one VPC must not share addresses", b.index+1, b.prefix, what, a.index+1, a.prefix))
			}
		}
	}
	if len(valid) == 0 {
		add(grader.Check{ID: CheckOverlap, Title: "No two subnets overlap", Status: grader.CheckSkip, Field: "/subnets", Message: noValid(none), MaxPoints: 1})
	} else {
		c := grader.Check{ID: CheckOverlap, Title: "No two subnets overlap", MaxPoints: 1}
		if len(overlaps) == 0 {
			c.Status, c.Points = grader.CheckPass, 1
		} else {
			c.Status, c.Field, c.Message = grader.CheckFail, overlapField, list(overlaps)
		}
		add(c)
	}

	// Room for the deploy peak.
	need := s.Need()
	smallest := SmallestPrefix(need)
	peakWhy := fmt.Sprintf("%d tasks at the deploy peak (floor(%d × %d%%)) spread over %d subnets is up to %d per subnet, plus %d other ENIs = %d",
		s.Peak(), s.DesiredCount, s.MaximumPercent, s.AZs, s.TasksPerSubnet(), s.ExtraENIsPerSubnet, need)
	capacity := judge(valid, none, CheckCapacity, "Each subnet holds its share of the deploy peak", 2, func(e entry) string {
		b := e.prefix.Bits()
		if u := Usable(b); u < need {
			return fmt.Sprintf("a /%d has %d usable addresses (%d minus the 5 AWS reserves); %s must hold %d tasks at the deploy peak plus %d other ENIs = %d",
				b, u, 1<<(32-b), e.prefix, s.TasksPerSubnet(), s.ExtraENIsPerSubnet, need)
		}
		return ""
	})
	capacity.Expected = fmt.Sprintf("at least %d usable addresses per subnet", need)
	switch capacity.Status {
	case grader.CheckPass:
		capacity.Message = peakWhy + "; every subnet has room"
	case grader.CheckFail:
		capacity.Hint = peakWhy + " usable addresses"
	}
	add(capacity)

	// No waste.
	sm := grader.Check{ID: CheckSmallest, Title: "Each subnet is the smallest that fits", Field: "/subnets", MaxPoints: 1,
		Expected: fmt.Sprintf("/%d subnets (%d usable addresses each)", smallest, Usable(smallest))}
	switch {
	case capacity.Status == grader.CheckSkip:
		sm.Status, sm.Message = grader.CheckSkip, capacity.Message
	case capacity.Status != grader.CheckPass:
		sm.Status, sm.Message = grader.CheckSkip, "first make every subnet large enough"
	default:
		var waste []string
		for _, e := range valid {
			if b := e.prefix.Bits(); b < smallest {
				if sm.Status == "" {
					sm.Field = e.field()
				}
				sm.Status = grader.CheckFail
				waste = append(waste, fmt.Sprintf("%s has %d usable addresses for a need of %d", e.prefix, Usable(b), need))
			}
		}
		if sm.Status == grader.CheckFail {
			sm.Message = fmt.Sprintf("the plan works but wastes addresses: %s; a /%d (%d usable) is the smallest subnet that fits",
				list(waste), smallest, Usable(smallest))
		} else {
			sm.Status, sm.Points = grader.CheckPass, 1
		}
	}
	add(sm)

	// The deploy is played out only for subnets the platform would create.
	for _, c := range p.Checks {
		if c.Status != grader.CheckPass && (c.ID == CheckCount || c.ID == CheckCIDR || c.ID == CheckPrefix || c.ID == CheckInVPC || c.ID == CheckOverlap) {
			p.Blocked = "not run: the subnets could not all be created (" + c.Title + " failed)"
			return p
		}
	}
	for _, e := range valid {
		p.Subnets = append(p.Subnets, e.prefix)
	}
	return p
}

// judge records one check that every valid entry must pass: problem returns
// "" for an entry that passes and a message otherwise.
func judge(valid []entry, none bool, id, title string, pts float64, problem func(entry) string) grader.Check {
	c := grader.Check{ID: id, Title: title, MaxPoints: pts}
	if len(valid) == 0 {
		c.Status, c.Field, c.Message = grader.CheckSkip, "/subnets", noValid(none)
		return c
	}
	var msgs []string
	for _, e := range valid {
		if m := problem(e); m != "" {
			if c.Field == "" {
				c.Field = e.field()
			}
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		c.Status, c.Points = grader.CheckPass, pts
		return c
	}
	c.Status, c.Message = grader.CheckFail, list(msgs)
	return c
}

func noValid(none bool) string {
	if none {
		return "no subnet was given"
	}
	return "no subnet is a valid CIDR block"
}

// cidrProblem says what is wrong with a submitted CIDR block, or "".
func cidrProblem(raw string) string {
	shown := quote(raw)
	if strings.TrimSpace(raw) == "" {
		return "the entry is empty; write a CIDR block such as 10.0.0.0/28"
	}
	if !strings.Contains(raw, "/") {
		return fmt.Sprintf("%s has no prefix length; write it as a CIDR block such as 10.0.0.0/28", shown)
	}
	p, err := netip.ParsePrefix(raw)
	if err != nil {
		return fmt.Sprintf("%s is not a CIDR block such as 10.0.0.0/28", shown)
	}
	if !p.Addr().Is4() {
		return fmt.Sprintf("%s is not IPv4; VPC subnets here are IPv4 blocks", shown)
	}
	if m := p.Masked(); m != p {
		size := uint64(1) << (32 - p.Bits())
		next := last(m).Next()
		alt := ""
		if next.IsValid() {
			alt = fmt.Sprintf(" or %s", netip.PrefixFrom(next, p.Bits()))
		}
		return fmt.Sprintf("%s is not aligned: a /%d starts at a multiple of %d addresses, so the nearest blocks are %s%s", p, p.Bits(), size, m, alt)
	}
	return ""
}

func first(p netip.Prefix) netip.Addr { return p.Masked().Addr() }

func last(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	if p.Bits() == 0 {
		host = ^uint32(0)
	}
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// quote shows a submitted string in a message, cut to a readable length.
func quote(s string) string {
	const limit = 40
	r := []rune(s)
	if len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// list joins problems into one message, naming at most maxListed.
func list(msgs []string) string {
	if len(msgs) <= maxListed {
		return strings.Join(msgs, "; ")
	}
	return strings.Join(msgs[:maxListed], "; ") + fmt.Sprintf("; and %d more", len(msgs)-maxListed)
}
