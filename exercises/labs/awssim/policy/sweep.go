package policy

import (
	"math/bits"
	"strings"
)

// SweepItem is one action and the resources to try it on, in groups (one
// per resource type, say), so that callers need not copy them together.
type SweepItem struct {
	Action string
	// Lower is Action in lower case, if the caller has it at hand.
	Lower     string
	Resources [][]string
}

// Grant is a request a sweep found allowed, or allowed under a condition
// the grader cannot evaluate (Outcome Conditional, By.Why saying why). By is
// the first statement that allows it, as Decision.Deciding[0] would be.
type Grant struct {
	Action, Resource string
	// Item is the index of the SweepItem the grant belongs to, Group the
	// index of the resource's group in it.
	Item, Group int
	Outcome     Outcome
	By          Ref
}

// Sweep evaluates an identity document for many requests that share one
// request context and reports every one that is not denied, in order. It
// decides each request exactly as Evaluate does, but computes each
// statement's conditions once, each statement's action match once per item
// and its resource match once per distinct resource, so that sweeping a
// whole action catalog stays cheap.
func Sweep(doc *Document, ctx Context, items []SweepItem, visit func(Grant)) {
	if len(doc.Statements) > 64 || doc.Type != Identity {
		sweepEach(doc, ctx, items, visit)
		return
	}
	sw := newSweeper(doc, ctx)
	for item, it := range items {
		lower := it.Lower
		if lower == "" {
			lower = strings.ToLower(it.Action)
		}
		action := sw.actionMask(lower)
		if action&sw.allow&(sw.holds|sw.unknown) == 0 {
			continue // nothing can allow it
		}
		for gi, group := range it.Resources {
			masks := sw.groupMasks(group)
			for i, r := range group {
				if g, ok := sw.decide(action & masks[i]); ok {
					g.Action, g.Resource, g.Item, g.Group = it.Action, r, item, gi
					visit(g)
				}
			}
		}
	}
}

// sweeper holds, as bit sets over the document's statements, what does not
// change between the requests of a sweep.
type sweeper struct {
	doc            *Document
	allow, deny    uint64 // statements by effect
	holds, unknown uint64 // conditions true, or not evaluated
	why            []string
	// groups caches the resource masks of a group of resources by the
	// address of its first element: callers pass the same groups again
	// and again (every action of a resource type).
	groups map[*string][]uint64
}

func newSweeper(doc *Document, ctx Context) *sweeper {
	sw := &sweeper{doc: doc, why: make([]string, len(doc.Statements)), groups: map[*string][]uint64{}}
	for i := range doc.Statements {
		s := &doc.Statements[i]
		bit := uint64(1) << i
		if s.Effect == Allow {
			sw.allow |= bit
		} else {
			sw.deny |= bit
		}
		switch t, w := s.conditionsHold(ctx); t {
		case isTrue:
			sw.holds |= bit
		case unknown:
			sw.unknown |= bit
			sw.why[i] = w
		}
	}
	return sw
}

// actionMask is the statements whose Action or NotAction covers the
// action, given in lower case.
func (sw *sweeper) actionMask(action string) uint64 {
	var m uint64
	for i := range sw.doc.Statements {
		if sw.doc.Statements[i].coversAction(action) {
			m |= uint64(1) << i
		}
	}
	return m
}

func (sw *sweeper) groupMasks(group []string) []uint64 {
	if len(group) == 0 {
		return nil
	}
	if m, ok := sw.groups[&group[0]]; ok && len(m) == len(group) {
		return m
	}
	m := make([]uint64, len(group))
	for i, r := range group {
		m[i] = sw.resourceMask(r)
	}
	sw.groups[&group[0]] = m
	return m
}

// resourceMask is the statements whose Resource or NotResource covers r.
func (sw *sweeper) resourceMask(r string) uint64 {
	var m uint64
	for i := range sw.doc.Statements {
		s := &sw.doc.Statements[i]
		if s.Resource != nil && !anyMatch(s.Resource, r, MatchResource) {
			continue
		}
		if s.NotResource != nil && anyMatch(s.NotResource, r, MatchResource) {
			continue
		}
		m |= uint64(1) << i
	}
	return m
}

// decide combines the statements that match a request as Evaluate does; ok
// is false when the request is denied.
func (sw *sweeper) decide(match uint64) (Grant, bool) {
	denies := match & sw.deny & sw.holds
	condDenies := match & sw.deny & sw.unknown
	allows := match & sw.allow & sw.holds
	condAllows := match & sw.allow & sw.unknown
	var g Grant
	switch {
	case denies != 0, allows == 0 && condAllows == 0:
		return g, false
	case allows != 0 && condDenies == 0:
		g.Outcome = Allowed
	default:
		g.Outcome = Conditional
	}
	// As Decision.Deciding: unconditional Allows first.
	by := allows
	if by == 0 {
		by = condAllows
	}
	s := &sw.doc.Statements[bits.TrailingZeros64(by)]
	g.By = Ref{Pointer: s.Pointer, Sid: s.Sid}
	if g.Outcome == Conditional {
		// As Decision.NotEvaluated: unevaluated Denies first.
		ne := condDenies
		if ne == 0 {
			ne = condAllows
		}
		g.By.Why = sw.why[bits.TrailingZeros64(ne)]
	}
	return g, true
}

// sweepEach is Sweep done one Evaluate at a time.
func sweepEach(doc *Document, ctx Context, items []SweepItem, visit func(Grant)) {
	for item, it := range items {
		for gi, group := range it.Resources {
			for _, r := range group {
				d := Evaluate(Request{Action: it.Action, Resource: r, Context: ctx}, doc)
				if d.Denied() {
					continue
				}
				g := Grant{Action: it.Action, Resource: r, Item: item, Group: gi, Outcome: d.Outcome, By: d.Deciding[0]}
				if d.Outcome == Conditional {
					g.By.Why = d.NotEvaluated[0].Why
				}
				visit(g)
			}
		}
	}
}
