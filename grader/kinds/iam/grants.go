package iam

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"coldstart/exercises/labs/awssim/policy"
)

// universe is the set of resources the least-privilege check evaluates
// every catalog action against, by "service/resource type": the scenario's
// own resources in the ARN forms each API checks, and one other resource of
// every type, which any wildcard that reaches beyond the scenario matches.
type universe struct {
	own     map[string][]string // the scenario's resources
	samples map[string][]string // one other resource of each type
}

func (u universe) addOwn(service, resourceType, arn string) {
	key := service + "/" + resourceType
	if !slices.Contains(u.own[key], arn) {
		u.own[key] = append(u.own[key], arn)
	}
}

// fillFormat replaces each ${Name} of an ARN format with fill(Name).
func fillFormat(format string, fill func(name string) string) string {
	var b strings.Builder
	for {
		i := strings.Index(format, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(format[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(format[:i])
		b.WriteString(fill(format[i+2 : i+j]))
		format = format[i+j+1:]
	}
	b.WriteString(format)
	return b.String()
}

// sampleARN fills a resource type's ARN format for "another resource of
// this type" in the scenario's account and region.
func (sc *Scenario) sampleARN(format string) string {
	return fillFormat(format, func(name string) string {
		switch name {
		case "Partition":
			return "aws"
		case "Region":
			return sc.Region
		case "Account":
			return sc.Account
		}
		return "other-" + strings.ToLower(name)
	})
}

// formatPattern turns an ARN format into a glob that matches its ARNs.
func formatPattern(format string) string {
	return fillFormat(format, func(string) string { return "*" })
}

// sampleCache holds, by region and account, one sample ARN of every
// resource type of the catalog: the same for every grading of a scenario.
var sampleCache sync.Map // "region account" → map[string][]string

// samples returns one sample resource of every resource type in the
// catalog, by "service/resource type". The map is shared: never change it.
func (sc *Scenario) samples(cat *policy.Catalog) map[string][]string {
	key := sc.Region + " " + sc.Account
	if m, ok := sampleCache.Load(key); ok {
		return m.(map[string][]string)
	}
	m := map[string][]string{}
	for _, p := range cat.Prefixes() {
		svc, _ := cat.Service(p)
		for t, format := range svc.ResourceTypes {
			arn := sc.sampleARN(format)
			if p == "logs" && t == "log-group" {
				arn += ":*" // the form CloudWatch Logs checks (shared/facts.md)
			}
			m[p+"/"+t] = []string{arn}
		}
	}
	sampleCache.Store(key, m)
	return m
}

// buildUniverse lists the scenario's resources and the probes', beside the
// catalog's samples.
func (sc *Scenario) buildUniverse(cat *policy.Catalog, probes []need) universe {
	u := universe{own: map[string][]string{}, samples: sc.samples(cat)}
	// The scenario's resources.
	u.addOwn("ecr", "repository", sc.repositoryARN())
	u.addOwn("logs", "log-group", sc.logGroupARN())
	u.addOwn("logs", "log-stream", sc.logStreamARN(sc.logStream(sampleTaskID)))
	for _, name := range slices.Sorted(maps.Keys(sc.Secrets)) {
		u.addOwn("secretsmanager", "Secret", sc.Secrets[name])
	}
	var objects []string
	objects = append(objects, sc.Reads...)
	objects = append(objects, slices.Sorted(maps.Keys(sc.Objects))...)
	for _, o := range objects {
		bucket, _, _ := strings.Cut(o, "/")
		u.addOwn("s3", "bucket", "arn:aws:s3:::"+bucket)
		u.addOwn("s3", "object", "arn:aws:s3:::"+o)
	}
	// Each probe's resource under the first resource type of its action
	// whose ARN format it fits.
	for _, pr := range probes {
		prefix, name, _ := strings.Cut(pr.Action, ":")
		svc, ok := cat.Service(prefix)
		if !ok || pr.Resource == "*" {
			continue
		}
		for _, t := range svc.ResourceTypesOf(name) {
			if policy.MatchResource(formatPattern(svc.ResourceTypes[t]), pr.Resource) {
				u.addOwn(svc.Prefix, t, pr.Resource)
				break
			}
		}
	}
	return u
}

// servicesInScope is every service the scenario involves and every service
// the document names; a statement that reaches every service ("*" or
// NotAction) brings in the whole catalog. Services the document names that
// the catalog lacks are returned apart.
func servicesInScope(cat *policy.Catalog, doc *policy.Document) (known, unknown []string) {
	set := map[string]bool{"ecr": true, "logs": true, "secretsmanager": true, "s3": true}
	named, all := doc.Services()
	for _, p := range named {
		if _, ok := cat.Service(p); ok {
			set[p] = true
		} else {
			unknown = append(unknown, p)
		}
	}
	if all {
		for _, p := range cat.Prefixes() {
			set[p] = true
		}
	}
	return slices.Sorted(maps.Keys(set)), unknown
}

// sweepPlan is what a grading sweeps the catalogs with: the universe of
// resources (the scenario's, both roles' probes, the samples) and, by
// service, the catalog's actions with the resources of their types. Both
// roles share it, so it is built once.
type sweepPlan struct {
	cat      *policy.Catalog
	universe universe
	// byService holds each service's items, built on first use.
	byService map[string]*serviceItems
}

type serviceItems struct {
	items  []policy.SweepItem
	access []string
}

func (sc *Scenario) newSweepPlan(cat *policy.Catalog) *sweepPlan {
	probes := append(sc.probes(executionSide), sc.probes(taskSide)...)
	return &sweepPlan{cat: cat, universe: sc.buildUniverse(cat, probes), byService: map[string]*serviceItems{}}
}

// service returns a service's items: for each action, its resource groups,
// for each resource type the scenario's own resources (even groups) then
// the sample (odd groups); "*" for an action authorised on no type.
func (sp *sweepPlan) service(p string) *serviceItems {
	if si, ok := sp.byService[p]; ok {
		return si
	}
	svc, _ := sp.cat.Service(p)
	names, lower, full := svc.ActionNames(), svc.LowerActions(), svc.FullActions()
	n := 0
	for _, name := range names {
		n += 2 * len(svc.ResourceTypesOf(name))
	}
	// One backing array for every item's groups.
	groups := make([][]string, 0, n)
	for _, name := range names {
		for _, t := range svc.ResourceTypesOf(name) {
			key := svc.Prefix + "/" + t
			groups = append(groups, sp.universe.own[key], sp.universe.samples[key])
		}
	}
	si := &serviceItems{items: make([]policy.SweepItem, len(names)), access: make([]string, len(names))}
	for i, name := range names {
		resources := anyResource
		if k := 2 * len(svc.ResourceTypesOf(name)); k > 0 {
			resources, groups = groups[:k:k], groups[k:]
		}
		si.items[i] = policy.SweepItem{Action: full[i], Lower: lower[i], Resources: resources}
		si.access[i] = svc.Access(name)
	}
	sp.byService[p] = si
	return si
}

// extraGrants evaluates every action of every service in scope against the
// universe's resources of the action's resource types (or "*" for an
// action authorised on no resource type), and gathers each grant that no
// need covers.
func (sp *sweepPlan) extraGrants(doc *policy.Document, ctx policy.Context, needs []need) *grantSet {
	services, _ := servicesInScope(sp.cat, doc)
	out := newGrantSet()
	for _, p := range services {
		si := sp.service(p)
		// The needs of each action, so that most grants are checked
		// against none.
		itemNeeds := map[int][]need{}
		for i, it := range si.items {
			for _, n := range needs {
				if strings.EqualFold(n.Action, it.Action) {
					itemNeeds[i] = append(itemNeeds[i], n)
				}
			}
		}
		policy.Sweep(doc, ctx, si.items, func(g policy.Grant) {
			if ns := itemNeeds[g.Item]; ns != nil && coveredBy(ns, g.Action, g.Resource) {
				return
			}
			own := g.Group%2 == 0 && len(si.items[g.Item].Resources) > 1 // even groups are the scenario's
			out.add(g.By, g.Outcome == policy.Conditional, g.Action, si.access[g.Item], g.Resource, own)
		})
	}
	return out
}

// anyResource is what an action authorised on no resource type is tried on.
var anyResource = [][]string{{"*"}}

func coveredBy(needs []need, action, resource string) bool {
	for _, n := range needs {
		if n.covers(action, resource) {
			return true
		}
	}
	return false
}

// uncataloguedGrants adds the Allow statements naming services the catalog
// lacks: the roles need nothing from any service outside it.
func uncataloguedGrants(cat *policy.Catalog, doc *policy.Document, out *grantSet) {
	for _, s := range doc.Statements {
		if s.Effect != policy.Allow {
			continue
		}
		for _, a := range s.Action {
			prefix, _, ok := strings.Cut(a, ":")
			if !ok {
				continue
			}
			if _, known := cat.Service(prefix); known {
				continue
			}
			res := strings.Join(s.Resource, ", ")
			if s.NotResource != nil {
				res = "everything but " + strings.Join(s.NotResource, ", ")
			}
			out.add(policy.Ref{Pointer: s.Pointer, Sid: s.Sid}, false, a, "", res, true)
		}
	}
}
