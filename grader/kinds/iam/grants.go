package iam

import (
	"maps"
	"slices"
	"strings"

	"coldstart/exercises/labs/awssim/policy"
)

// universe is the set of resources the least-privilege check evaluates
// every catalog action against, by "service/resource type": the scenario's
// own resources in the ARN forms each API checks, and one other resource of
// every type, which any wildcard that reaches beyond the scenario matches.
type universe struct {
	byType map[string][]string
	own    map[string]bool // the scenario's resources, not the samples
}

func (u universe) add(service, resourceType, arn string) {
	key := service + "/" + resourceType
	if !slices.Contains(u.byType[key], arn) {
		u.byType[key] = append(u.byType[key], arn)
	}
}

func (u universe) addOwn(service, resourceType, arn string) {
	u.add(service, resourceType, arn)
	u.own[arn] = true
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

// buildUniverse lists the resources of the services in scope.
func (sc *Scenario) buildUniverse(cat *policy.Catalog, services []string, probes []need) universe {
	u := universe{byType: map[string][]string{}, own: map[string]bool{}}
	for _, p := range services {
		svc, ok := cat.Service(p)
		if !ok {
			continue
		}
		for _, t := range slices.Sorted(maps.Keys(svc.ResourceTypes)) {
			arn := sc.sampleARN(svc.ResourceTypes[t])
			if p == "logs" && t == "log-group" {
				arn += ":*" // the form CloudWatch Logs checks (shared/facts.md)
			}
			u.add(p, t, arn)
		}
	}
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

// extraGrants evaluates every action of every service in scope against the
// universe's resources of the action's resource types (or "*" for an
// action authorised on no resource type), and returns each grant that no
// need covers.
func extraGrants(cat *policy.Catalog, sc *Scenario, doc *policy.Document, ctx policy.Context, needs, probes []need) *grantSet {
	services, _ := servicesInScope(cat, doc)
	u := sc.buildUniverse(cat, services, probes)
	var items []policy.SweepItem
	var access []string
	for _, p := range services {
		svc, _ := cat.Service(p)
		lower := svc.LowerActions()
		for i, name := range svc.ActionNames() {
			action := svc.Prefix + ":" + name
			resources := anyResource
			if types := svc.ResourceTypesOf(name); len(types) > 0 {
				resources = make([][]string, len(types))
				for i, t := range types {
					resources[i] = u.byType[svc.Prefix+"/"+t]
				}
			}
			items = append(items, policy.SweepItem{Action: action, Lower: lower[i], Resources: resources})
			access = append(access, svc.Access(name))
		}
	}
	out := newGrantSet()
	policy.Sweep(doc, ctx, items, func(g policy.Grant) {
		if coveredBy(needs, g.Action, g.Resource) {
			return
		}
		out.add(g.By, g.Outcome == policy.Conditional, g.Action, access[g.Item], g.Resource, u.own[g.Resource])
	})
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
