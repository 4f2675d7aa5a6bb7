package iam

import (
	"coldstart/exercises/labs/awssim/policy"
)

// grantSet gathers the grants a permission policy makes beyond what the
// role needs, grouped as they arrive by the statement that grants them and
// by action: a policy of "*" makes thousands, so nothing is kept per grant
// but its resource.
type grantSet struct {
	count  int
	groups []*grantGroup
	byPtr  map[string]*grantGroup
	last   *actionGrants
	lastIn *grantGroup
}

// grantGroup is the extra grants one statement makes, by action.
type grantGroup struct {
	ref         policy.Ref
	conditional bool
	why         string
	actions     []*actionGrants
	byAction    map[string]*actionGrants
}

// actionGrants is one action a statement grants beyond the needs, and the
// resources it reaches: the scenario's own first.
type actionGrants struct {
	name      string
	own       bool // it reaches one of the scenario's resources
	rank      int  // its access level, as policy.AccessRank
	resources []string
	samples   []string // resources that stand for "any other", while adding
}

func newGrantSet() *grantSet { return &grantSet{byPtr: map[string]*grantGroup{}} }

// add records that the statement ref grants action on resource (under a
// condition the grader cannot evaluate when conditional, ref.Why saying
// why). own says the resource is one of the scenario's.
func (gs *grantSet) add(ref policy.Ref, conditional bool, action, access, resource string, own bool) {
	gs.count++
	gg := gs.lastIn
	if gg == nil || gg.ref.Pointer != ref.Pointer {
		gg = gs.byPtr[ref.Pointer]
		if gg == nil {
			gg = &grantGroup{ref: ref, byAction: map[string]*actionGrants{}}
			gs.byPtr[ref.Pointer] = gg
			gs.groups = append(gs.groups, gg)
		}
		gs.lastIn, gs.last = gg, nil
	}
	if conditional {
		gg.conditional, gg.why = true, ref.Why
	}
	ag := gs.last
	if ag == nil || ag.name != action {
		ag = gg.byAction[action]
		if ag == nil {
			ag = &actionGrants{name: action, rank: policy.AccessRank(access)}
			gg.byAction[action] = ag
			gg.actions = append(gg.actions, ag)
		}
		gs.last = ag
	}
	if own {
		ag.own = true
		ag.resources = append(ag.resources, resource)
	} else {
		ag.samples = append(ag.samples, resource)
	}
}

// finish orders the groups for the message and returns them: in each
// statement, the actions on the scenario's own resources first (the samples
// stand for everything else a wildcard reaches), then the most powerful
// access levels (Permissions management, Write…), then by name.
func (gs *grantSet) finish() []*grantGroup {
	for _, gg := range gs.groups {
		for _, ag := range gg.actions {
			ag.resources = append(ag.resources, ag.samples...)
			ag.samples = nil
		}
		gg.actions = orderActions(gg.actions)
	}
	return gs.groups
}

// orderActions sorts actions by (own, access level) in one pass, keeping
// the order they arrived in, which is by name: the catalog's services and
// actions are sorted.
func orderActions(actions []*actionGrants) []*actionGrants {
	const levels = 8
	var buckets [2 * levels][]*actionGrants
	for _, a := range actions {
		b := min(a.rank, levels-1)
		if !a.own {
			b += levels
		}
		buckets[b] = append(buckets[b], a)
	}
	out := actions[:0:0]
	for _, b := range buckets {
		out = append(out, b...)
	}
	return out
}
