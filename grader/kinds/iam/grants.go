package iam

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"coldstart/exercises/labs/awssim/policy"
)

// grant is one action on one resource that a permission policy allows (or
// may allow, under a condition the grader does not evaluate) beyond what
// the role needs.
type grant struct {
	action, resource string
	access           string // the action's access level, "" if unknown
	own              bool   // the resource is one of the scenario's
	decision         policy.Decision
}

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

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// sampleARN fills a resource type's ARN format for "another resource of
// this type" in the scenario's account and region.
func (sc *Scenario) sampleARN(format string) string {
	return placeholder.ReplaceAllStringFunc(format, func(m string) string {
		switch name := m[2 : len(m)-1]; name {
		case "Partition":
			return "aws"
		case "Region":
			return sc.Region
		case "Account":
			return sc.Account
		default:
			return "other-" + strings.ToLower(name)
		}
	})
}

// formatPattern turns an ARN format into a glob that matches its ARNs.
func formatPattern(format string) string {
	return placeholder.ReplaceAllString(format, "*")
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
func extraGrants(cat *policy.Catalog, sc *Scenario, doc *policy.Document, ctx policy.Context, needs, probes []need) []grant {
	services, _ := servicesInScope(cat, doc)
	u := sc.buildUniverse(cat, services, probes)
	var out []grant
	for _, p := range services {
		svc, _ := cat.Service(p)
		for _, name := range svc.ActionNames() {
			action := svc.Prefix + ":" + name
			if !actionNamed(doc, action) {
				continue
			}
			var resources []string
			for _, t := range svc.ResourceTypesOf(name) {
				resources = append(resources, u.byType[svc.Prefix+"/"+t]...)
			}
			if len(resources) == 0 {
				resources = []string{"*"}
			}
			for _, r := range resources {
				d := policy.Evaluate(policy.Request{Action: action, Resource: r, Context: ctx}, doc)
				if d.Denied() || coveredBy(needs, action, r) {
					continue
				}
				out = append(out, grant{action: action, resource: r, access: svc.Access(name), own: u.own[r], decision: d})
			}
		}
	}
	return out
}

// actionNamed is a quick filter: whether any Allow statement's Action or
// NotAction could grant the action at all, before its resources are tried.
func actionNamed(doc *policy.Document, action string) bool {
	for _, s := range doc.Statements {
		if s.Effect != policy.Allow {
			continue
		}
		if s.NotAction != nil {
			return true
		}
		for _, a := range s.Action {
			if policy.Match(strings.ToLower(a), strings.ToLower(action)) {
				return true
			}
		}
	}
	return false
}

func coveredBy(needs []need, action, resource string) bool {
	for _, n := range needs {
		if n.covers(action, resource) {
			return true
		}
	}
	return false
}

// uncataloguedGrants are Allow statements naming services the catalog
// lacks: the roles need nothing from any service outside it.
func uncataloguedGrants(cat *policy.Catalog, doc *policy.Document) []grant {
	var out []grant
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
			out = append(out, grant{action: a, resource: res, decision: policy.Decision{Outcome: policy.Allowed,
				Deciding: []policy.Ref{{Pointer: s.Pointer, Sid: s.Sid}}}})
		}
	}
	return out
}
