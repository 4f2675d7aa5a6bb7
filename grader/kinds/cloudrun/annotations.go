package cloudrun

import (
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"coldstart/grader"
)

// The annotations Cloud Run reads, by the level that reads them, from
// Cloud Run's YAML reference (cloud.google.com/run/docs/reference/yaml/v1)
// and the v1 RevisionTemplate reference
// (cloud.google.com/run/docs/reference/rest/v1/RevisionTemplate). A value
// list is given only where the documentation lists the values; nil means
// the documentation leaves the value to the feature's own page, and the
// grader does not judge it.
var revisionAnnotations = map[string][]string{
	annMinScale:                                     nil,
	annMaxScale:                                     nil,
	annCPUThrottling:                                {"true", "false"},
	annStartupBoost:                                 {"true", "false"},
	annExecEnv:                                      {"gen1", "gen2"}, // ExecutionEnvironment: GEN1, GEN2
	"run.googleapis.com/sessionAffinity":            nil,
	"run.googleapis.com/cloudsql-instances":         nil,
	"run.googleapis.com/vpc-access-connector":       nil,
	"run.googleapis.com/vpc-access-egress":          {"all-traffic", "all", "private-ranges-only"},
	"run.googleapis.com/network-interfaces":         nil,
	"run.googleapis.com/encryption-key":             nil,
	"run.googleapis.com/custom-audiences":           nil,
	"run.googleapis.com/container-dependencies":     nil,
	"run.googleapis.com/health-check-disabled":      nil,
	"run.googleapis.com/scaling-cpu-target":         nil,
	"run.googleapis.com/scaling-concurrency-target": nil,
}

var serviceAnnotationKeys = map[string][]string{
	annServiceMinScale:                                   nil,
	annServiceMaxScale:                                   nil,
	"run.googleapis.com/launch-stage":                    nil,
	"run.googleapis.com/description":                     nil,
	"run.googleapis.com/ingress":                         nil,
	"run.googleapis.com/binary-authorization":            nil,
	"run.googleapis.com/binary-authorization-breakglass": nil,
	"run.googleapis.com/function-target":                 nil,
	"run.googleapis.com/invoker-iam-disabled":            nil,
	"run.googleapis.com/iap-enabled":                     nil,
	"run.googleapis.com/ssh-enabled":                     nil,
	"run.googleapis.com/scalingMode":                     nil,
	"run.googleapis.com/manualInstanceCount":             nil,
	"run.googleapis.com/custom-audiences":                nil,
}

// Annotation keys the checks read.
const (
	annMinScale        = "autoscaling.knative.dev/minScale"
	annMaxScale        = "autoscaling.knative.dev/maxScale"
	annServiceMinScale = "run.googleapis.com/minScale"
	annServiceMaxScale = "run.googleapis.com/maxScale"
	annCPUThrottling   = "run.googleapis.com/cpu-throttling"
	annStartupBoost    = "run.googleapis.com/startup-cpu-boost"
	annExecEnv         = "run.googleapis.com/execution-environment"
)

// cloudRunNamespace reports whether key is in a namespace Cloud Run owns,
// where a misspelt key is worth a word.
func cloudRunNamespace(key string) bool {
	return strings.HasPrefix(key, "run.googleapis.com/") || strings.HasPrefix(key, "autoscaling.knative.dev/")
}

// nearKey returns the documented key that key looks like a misspelling of,
// or "".
func nearKey(key string, known map[string][]string) string {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s)) }
	keys := make([]string, 0, len(known))
	for k := range known {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best, bestD := "", 4 // at most three edits away
	for _, want := range keys {
		if key == want {
			return ""
		}
		d := grader.EditDistance(key, want)
		if norm(key) == norm(want) {
			d = 0
		}
		if d < bestD {
			best, bestD = want, d
		}
	}
	return best
}

// annotationValue checks a documented annotation's value against the values
// the documentation lists, and returns the value.
func (p *parser) annotationValue(key string, v *yaml.Node, values []string, path string) string {
	val := strings.TrimSpace(v.Value)
	if values != nil && !slices.Contains(values, val) {
		p.add("cloudrun.annotations", path, v, "%s is %q; Cloud Run's reference documents %s", key, grader.Clip(val), quoteList(values))
	}
	return val
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "\"" + v + "\""
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// serviceAnnotations reads the service's own annotations. The service-wide
// minScale and maxScale are Cloud Run settings in their own right; the
// revision's scaling annotations placed here are recorded so that a check
// can say where they belong.
func (p *parser) serviceAnnotations(n *yaml.Node) {
	const base = "metadata.annotations"
	for key, v := range p.stringMap(n, base) {
		path := annotationPath(base, key)
		if cloudRunNamespace(key) {
			p.svc.Annotations++
		}
		switch {
		case key == annServiceMinScale:
			if s, ok := p.scale(v, path, "cloudrun.scale"); ok {
				p.svc.ServiceMinScale, p.svc.ServiceMinSet = s, true
			}
		case key == annServiceMaxScale:
			if s, ok := p.scale(v, path, "cloudrun.scale"); ok {
				p.svc.ServiceMaxScale, p.svc.ServiceMaxSet = s, true
			}
		case key == annMinScale || key == annMaxScale:
			p.svc.ServiceScale[key] = true
			p.scale(v, path, "cloudrun.scale")
		case serviceAnnotationKeys[key] != nil:
			p.annotationValue(key, v, serviceAnnotationKeys[key], path)
		case hasKey(serviceAnnotationKeys, key):
		case hasKey(revisionAnnotations, key):
			p.add("cloudrun.annotations", path, v, "%s is a revision annotation: Cloud Run's YAML reference reads it on %s, not on the service's metadata.annotations", key, pathAnnotations)
		case cloudRunNamespace(key):
			if near := nearKey(key, serviceAnnotationKeys); near != "" {
				p.add("cloudrun.annotations", path, v, "%s is not among the service annotations Cloud Run documents; did you mean %s?", key, near)
			} else if near := nearKey(key, revisionAnnotations); near != "" {
				p.add("cloudrun.annotations", path, v, "%s is not an annotation Cloud Run documents; %s is, on %s", key, near, pathAnnotations)
			}
		}
	}
}

func hasKey(m map[string][]string, k string) bool {
	_, ok := m[k]
	return ok
}

func (p *parser) templateAnnotations(n *yaml.Node) {
	for key, v := range p.stringMap(n, pathAnnotations) {
		path := annotationPath(pathAnnotations, key)
		if cloudRunNamespace(key) {
			p.svc.Annotations++
		}
		switch key {
		case annMinScale:
			if s, ok := p.scale(v, path, "cloudrun.scale"); ok {
				p.svc.MinScale, p.svc.MinScaleSet = s, true
			}
			continue
		case annMaxScale:
			if s, ok := p.scale(v, path, "cloudrun.scale"); ok {
				p.svc.MaxScale, p.svc.MaxScaleSet = s, true
			}
			continue
		case annServiceMinScale, annServiceMaxScale:
			p.add("cloudrun.scale-annotations", path, v, "%s is the service-wide setting, read on the service's metadata.annotations; the revision's own is %s",
				key, strings.Replace(key, "run.googleapis.com/", "autoscaling.knative.dev/", 1))
			continue
		}
		if values, ok := revisionAnnotations[key]; ok {
			val := p.annotationValue(key, v, values, path)
			switch key {
			case annExecEnv:
				p.svc.ExecEnv = val
			case annCPUThrottling:
				p.svc.CPUThrottling = val
			}
			continue
		}
		switch {
		case hasKey(serviceAnnotationKeys, key):
			p.add("cloudrun.annotations", path, v, "%s is a service annotation: Cloud Run's YAML reference reads it on metadata.annotations, not on the revision template", key)
		case !cloudRunNamespace(key):
		case nearKey(key, map[string][]string{annMinScale: nil, annMaxScale: nil}) != "":
			p.add("cloudrun.scale-annotations", path, v, "%s is not an annotation Cloud Run documents; the annotation is spelled %s",
				key, nearKey(key, map[string][]string{annMinScale: nil, annMaxScale: nil}))
		case nearKey(key, revisionAnnotations) != "":
			p.add("cloudrun.annotations", path, v, "%s is not an annotation Cloud Run documents; did you mean %s?", key, nearKey(key, revisionAnnotations))
		}
	}
}
