package cloudrun

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"coldstart/grader"
)

// The static checks, in the order they are reported.
var staticChecks = []grader.Check{
	{ID: "cloudrun.schema", Title: "The YAML uses only fields of a Cloud Run service", MaxPoints: 1},
	{ID: "cloudrun.service", Title: "A serving.knative.dev/v1 Service with a name and one container image", MaxPoints: 1},
	{ID: "cloudrun.contract", Title: "The container keeps Cloud Run's container contract (one port, reserved variables left to Cloud Run)", MaxPoints: 1},
	{ID: "cloudrun.concurrency", Title: "containerConcurrency is 1–1000 (0 or absent: 80 from 1 vCPU, 1 below)", MaxPoints: 1},
	{ID: "cloudrun.scale-annotations", Title: "minScale and maxScale are set on the level that reads them", MaxPoints: 1},
	{ID: "cloudrun.scale", Title: "minScale and maxScale are whole numbers and minScale ≤ maxScale", MaxPoints: 1},
	{ID: "cloudrun.annotations", Title: "Other annotations are ones Cloud Run reads, on their level, with documented values", MaxPoints: 1},
	{ID: "cloudrun.resources", Title: "CPU and memory form a size Cloud Run offers", MaxPoints: 1},
	{ID: "cloudrun.cpu-concurrency", Title: "Below 1 vCPU: containerConcurrency 1, request-based billing, first generation", MaxPoints: 1},
	{ID: "cloudrun.timeout", Title: "timeoutSeconds is 1–3600", MaxPoints: 1},
}

// canaryChecks are the static checks a canary adds, after staticChecks.
var canaryChecks = []grader.Check{
	{ID: "cloudrun.traffic", Title: "Each traffic entry pins a revision or follows the latest, with a whole percent, and the percents sum to 100", MaxPoints: 1},
	{ID: "cloudrun.revisions", Title: "Every revision named is one the service has, and the template names its new revision validly", MaxPoints: 1},
	{ID: "cloudrun.tags", Title: "Each tag is a DNS label and used once", MaxPoints: 1},
}

// judge runs the static checks on a parsed service. Each check fails with
// the problems the parser found for it and those found here.
func judge(svc *Service) []grader.Check { return judgeWith(svc, nil) }

// judgeWith runs the static checks, and the canary's when c is set.
func judgeWith(svc *Service, c *CanaryScenario) []grader.Check {
	probs := map[string][]problem{}
	for _, p := range svc.problems {
		if c == nil && (p.check == "cloudrun.traffic" || p.check == "cloudrun.tags" || p.check == "cloudrun.revisions") {
			// Without a canary the traffic block is only read, and its
			// problems are ones of form.
			p.check = "cloudrun.schema"
		}
		probs[p.check] = append(probs[p.check], p)
	}
	add := func(check, path, format string, args ...any) {
		probs[check] = append(probs[check], problem{check: check, path: path, line: svc.Lines[path], msg: fmt.Sprintf(format, args...)})
	}
	ok := func(check string) bool { return len(probs[check]) == 0 }
	notes := map[string]string{}
	cc := svc.EffectiveConcurrency()

	notes["cloudrun.contract"] = fmt.Sprintf("requests arrive on port %d, given to the container as $PORT", svc.Port)
	judgeConcurrency(svc, add, ok, notes)
	judgeScale(svc, add, ok, notes)
	notes["cloudrun.annotations"] = fmt.Sprintf("%d Cloud Run annotations, each on the level that reads it", svc.Annotations)

	cpuText, memText := svc.CPUText, svc.MemoryText
	if !svc.CPUSet {
		cpuText = "1 (the default)"
	}
	if !svc.MemorySet {
		memText = "512Mi (the default)"
	}
	if ok("cloudrun.resources") {
		if path, msg := resourceProblem(svc, cpuText, memText); msg != "" {
			add("cloudrun.resources", path, "%s", msg)
		} else {
			notes["cloudrun.resources"] = fmt.Sprintf("cpu %s with memory %s", cpuText, memText)
		}
	}
	if ok("cloudrun.resources") && ok("cloudrun.concurrency") && svc.CPU < 1 {
		for _, p := range belowOneCPUProblems(svc) {
			add("cloudrun.cpu-concurrency", p.path, "%s", p.msg)
		}
	}
	if svc.CPU < 1 {
		notes["cloudrun.cpu-concurrency"] = fmt.Sprintf("below 1 vCPU with containerConcurrency %d", cc)
	} else {
		notes["cloudrun.cpu-concurrency"] = fmt.Sprintf("%g vCPU allows containerConcurrency %d", svc.CPU, cc)
	}

	// Request timeout [facts: default 300 s, at most 3600 s].
	if ok("cloudrun.timeout") {
		if svc.TimeoutSet && (svc.TimeoutSeconds < 1 || svc.TimeoutSeconds > maxTimeout) {
			add("cloudrun.timeout", pathTimeout, "timeoutSeconds is %d; a request timeout is 1–%d seconds", svc.TimeoutSeconds, maxTimeout)
		} else if svc.TimeoutSet {
			notes["cloudrun.timeout"] = fmt.Sprintf("requests time out after %d s", svc.TimeoutSeconds)
		} else {
			notes["cloudrun.timeout"] = "timeoutSeconds is not set: 300 s"
		}
	}
	notes["cloudrun.schema"] = "every field is one Cloud Run reads"
	notes["cloudrun.service"] = fmt.Sprintf("service %q", svc.Name)
	if c == nil {
		return verdicts(staticChecks, probs, notes)
	}
	if svc.Name != "" && svc.Name != c.Service && ok("cloudrun.service") {
		add("cloudrun.service", "metadata.name", "metadata.name is %q, but the revisions to split between belong to the service %s: updating another name would create a new service with none of them", svc.Name, c.Service)
	}
	judgeTraffic(svc, c, add, notes)
	return verdicts(append(slices.Clone(staticChecks), canaryChecks...), probs, notes)
}

type addFunc func(check, path, format string, args ...any)

// judgeConcurrency: 1–1000, and 0 or absent means the default
// [facts: concurrency; Cloud Run Admin API v1, RevisionSpec].
func judgeConcurrency(svc *Service, add addFunc, ok func(string) bool, notes map[string]string) {
	if !ok("cloudrun.concurrency") {
		return
	}
	def := "80 requests per instance (the default from 1 vCPU)"
	if svc.CPU < 1 {
		def = "1 request per instance (the default below 1 vCPU)"
	}
	switch {
	case !svc.ConcurrencySet:
		notes["cloudrun.concurrency"] = "containerConcurrency is not set: " + def
	case svc.Concurrency < 0 || svc.Concurrency > maxConcurrency:
		add("cloudrun.concurrency", pathConcurrency, "containerConcurrency is %d; it must be 1–%d (0 means the default)", svc.Concurrency, maxConcurrency)
	case svc.Concurrency == 0:
		notes["cloudrun.concurrency"] = "containerConcurrency 0 means the default: " + def
	default:
		notes["cloudrun.concurrency"] = fmt.Sprintf("up to %d requests in flight per instance", svc.Concurrency)
	}
}

// judgeScale: the revision's scaling annotations belong on the template,
// the service-wide ones on the service; minScale ≤ maxScale, and maxScale
// defaults to 100 [facts; Cloud Run YAML reference].
func judgeScale(svc *Service, add addFunc, ok func(string) bool, notes map[string]string) {
	for _, key := range []string{annMinScale, annMaxScale} {
		if svc.ServiceScale[key] {
			add("cloudrun.scale-annotations", annotationPath("metadata.annotations", key),
				"%s is a revision annotation: Cloud Run's YAML reference reads it on %s, not on the service's metadata.annotations (where the service-wide setting is %s)",
				key, pathAnnotations, strings.Replace(key, "autoscaling.knative.dev/", "run.googleapis.com/", 1))
		}
	}
	if ok("cloudrun.scale-annotations") {
		var set []string
		if svc.MinScaleSet {
			set = append(set, "minScale "+strconv.FormatInt(svc.MinScale, 10))
		}
		if svc.MaxScaleSet {
			set = append(set, "maxScale "+strconv.FormatInt(svc.MaxScale, 10))
		}
		level := " on the revision template"
		if svc.ServiceMinSet || svc.ServiceMaxSet {
			level = fmt.Sprintf(" for the revision, with the service-wide settings applied (%s)", serviceScaleText(svc))
		}
		if len(set) == 0 && !svc.ServiceMinSet && !svc.ServiceMaxSet {
			notes["cloudrun.scale-annotations"] = "no scaling annotations: minScale 0 and maxScale 100 apply"
		} else {
			notes["cloudrun.scale-annotations"] = fmt.Sprintf("minScale %d and maxScale %d%s", svc.MinScale, svc.MaxScale, level)
		}
	}
	if !ok("cloudrun.scale") {
		return
	}
	minP, maxP := annotationPath(pathAnnotations, annMinScale), annotationPath(pathAnnotations, annMaxScale)
	if !svc.MinScaleSet && svc.ServiceMinSet {
		minP = annotationPath("metadata.annotations", annServiceMinScale)
	}
	if !svc.MaxScaleSet && svc.ServiceMaxSet {
		maxP = annotationPath("metadata.annotations", annServiceMaxScale)
	}
	maxSet := svc.MaxScaleSet || svc.ServiceMaxSet
	switch {
	case maxSet && svc.MaxScale == 0:
		add("cloudrun.scale", maxP, "maxScale is 0, which would allow no instance to serve; give at least 1, or leave it out for the default of 100")
	case svc.MinScale > svc.MaxScale && maxSet:
		add("cloudrun.scale", minP, "minScale %d is above maxScale %d: the minimum number of instances cannot exceed the maximum", svc.MinScale, svc.MaxScale)
	case svc.MinScale > svc.MaxScale:
		add("cloudrun.scale", minP, "minScale %d is above the default maxScale of %d: set maxScale too", svc.MinScale, svc.MaxScale)
	default:
		notes["cloudrun.scale"] = fmt.Sprintf("between %d and %d instances", svc.MinScale, svc.MaxScale)
	}
}

func serviceScaleText(svc *Service) string {
	var parts []string
	if svc.ServiceMinSet {
		parts = append(parts, fmt.Sprintf("%s %d", annServiceMinScale, svc.ServiceMinScale))
	}
	if svc.ServiceMaxSet {
		parts = append(parts, fmt.Sprintf("%s %d", annServiceMaxScale, svc.ServiceMaxScale))
	}
	return strings.Join(parts, ", ")
}

// verdicts turns the problems and notes into the checks, in order.
func verdicts(checks []grader.Check, probs map[string][]problem, notes map[string]string) []grader.Check {
	out := make([]grader.Check, 0, len(checks))
	for _, c := range checks {
		c.Phase = grader.PhaseStatic
		if ps := probs[c.ID]; len(ps) > 0 {
			c.Status = grader.CheckFail
			c.Field = ps[0].path
			msgs := make([]string, 0, len(ps))
			for i, p := range ps {
				if i == 5 {
					msgs = append(msgs, fmt.Sprintf("… and %d more", len(ps)-i))
					break
				}
				msgs = append(msgs, p.String())
			}
			c.Message = strings.Join(msgs, "; ")
		} else {
			c.Status = grader.CheckPass
			c.Points = c.MaxPoints
			c.Message = notes[c.ID]
		}
		out = append(out, c)
	}
	return out
}
