package cloudrun

import (
	"fmt"
	"strconv"
	"strings"

	"coldstart/grader"
)

// The static checks, in the order they are reported.
var staticChecks = []grader.Check{
	{ID: "cloudrun.schema", Title: "The YAML uses only fields of a Cloud Run service", MaxPoints: 1},
	{ID: "cloudrun.service", Title: "A serving.knative.dev/v1 Service with a name and one container image", MaxPoints: 1},
	{ID: "cloudrun.concurrency", Title: "containerConcurrency is 1–1000 (0 or absent means 80)", MaxPoints: 1},
	{ID: "cloudrun.scale-annotations", Title: "minScale and maxScale are set on the revision template", MaxPoints: 1},
	{ID: "cloudrun.scale", Title: "minScale and maxScale are whole numbers and minScale ≤ maxScale", MaxPoints: 1},
	{ID: "cloudrun.resources", Title: "CPU and memory form a size Cloud Run offers", MaxPoints: 1},
	{ID: "cloudrun.cpu-concurrency", Title: "Below 1 vCPU, containerConcurrency is 1", MaxPoints: 1},
	{ID: "cloudrun.timeout", Title: "timeoutSeconds is 1–3600", MaxPoints: 1},
}

// judge runs the static checks on a parsed service. Each check fails with
// the problems the parser found for it and those found here.
func judge(svc *Service) []grader.Check {
	probs := map[string][]problem{}
	for _, p := range svc.problems {
		probs[p.check] = append(probs[p.check], p)
	}
	add := func(check, path, format string, args ...any) {
		probs[check] = append(probs[check], problem{check: check, path: path, line: svc.Lines[path], msg: fmt.Sprintf(format, args...)})
	}
	notes := map[string]string{}
	cc := svc.EffectiveConcurrency()

	// containerConcurrency [facts: 1–1000; 0 or absent means 80 in this YAML].
	if len(probs["cloudrun.concurrency"]) == 0 {
		switch {
		case !svc.ConcurrencySet:
			notes["cloudrun.concurrency"] = "containerConcurrency is not set, so Cloud Run uses 80 requests per instance"
		case svc.Concurrency < 0 || svc.Concurrency > maxConcurrency:
			add("cloudrun.concurrency", pathConcurrency, "containerConcurrency is %d; it must be 1–%d (0 means the default of 80)", svc.Concurrency, maxConcurrency)
		case svc.Concurrency == 0:
			notes["cloudrun.concurrency"] = "containerConcurrency 0 means the default: 80 requests per instance"
		default:
			notes["cloudrun.concurrency"] = fmt.Sprintf("up to %d requests in flight per instance", svc.Concurrency)
		}
	}

	// Scaling annotations belong on the revision template.
	for _, key := range []string{annMinScale, annMaxScale} {
		if svc.ServiceScale[key] {
			onTemplate := (key == annMinScale && svc.MinScaleSet) || (key == annMaxScale && svc.MaxScaleSet)
			if !onTemplate {
				add("cloudrun.scale-annotations", annotationPath("metadata.annotations", key),
					"%s is on the service's metadata.annotations, where it does not set the revision's scaling; move it to %s", key, pathAnnotations)
			}
		}
	}
	for _, key := range []string{annServiceMinScale, annServiceMaxScale} {
		if svc.ServiceScale[key] {
			add("cloudrun.scale-annotations", annotationPath("metadata.annotations", key),
				"%s is a service-wide setting; this exercise asks for the revision's own %s on %s",
				key, strings.Replace(key, "run.googleapis.com/", "autoscaling.knative.dev/", 1), pathAnnotations)
		}
	}
	if len(probs["cloudrun.scale-annotations"]) == 0 {
		var set []string
		if svc.MinScaleSet {
			set = append(set, "minScale "+strconv.FormatInt(svc.MinScale, 10))
		}
		if svc.MaxScaleSet {
			set = append(set, "maxScale "+strconv.FormatInt(svc.MaxScale, 10))
		}
		if len(set) == 0 {
			notes["cloudrun.scale-annotations"] = "no scaling annotations: minScale 0 and maxScale 100 apply"
		} else {
			notes["cloudrun.scale-annotations"] = strings.Join(set, " and ") + " on the revision template"
		}
	}

	// minScale ≤ maxScale; maxScale defaults to 100 [facts].
	if len(probs["cloudrun.scale"]) == 0 {
		minP, maxP := annotationPath(pathAnnotations, annMinScale), annotationPath(pathAnnotations, annMaxScale)
		switch {
		case svc.MaxScaleSet && svc.MaxScale == 0:
			add("cloudrun.scale", maxP, "maxScale is 0, which would allow no instance to serve; give at least 1, or leave it out for the default of 100")
		case svc.MinScale > svc.MaxScale && svc.MaxScaleSet:
			add("cloudrun.scale", minP, "minScale %d is above maxScale %d: the minimum number of instances cannot exceed the maximum", svc.MinScale, svc.MaxScale)
		case svc.MinScale > svc.MaxScale:
			add("cloudrun.scale", minP, "minScale %d is above the default maxScale of %d: set maxScale too", svc.MinScale, svc.MaxScale)
		default:
			notes["cloudrun.scale"] = fmt.Sprintf("between %d and %d instances", svc.MinScale, svc.MaxScale)
		}
	}

	// CPU and memory [facts: CPU max 8; memory max 32 GiB; > 4 GiB needs
	// ≥ 2 vCPU, > 8 GiB ≥ 4, > 16 GiB ≥ 6, > 24 GiB ≥ 8; 0.5 vCPU → at most 1 GiB].
	if len(probs["cloudrun.resources"]) == 0 {
		cpuP, memP := pathContainers+"[0].resources.limits.cpu", pathContainers+"[0].resources.limits.memory"
		cpu, mem := svc.CPU, svc.MemoryBytes
		cpuText, memText := svc.CPUText, svc.MemoryText
		if !svc.CPUSet {
			cpuText = "1 (the default)"
		}
		if !svc.MemorySet {
			memText = "512Mi (the default)"
		}
		const gib = 1 << 30
		needs := []struct {
			above int64
			cpu   float64
		}{{24 * gib, 8}, {16 * gib, 6}, {8 * gib, 4}, {4 * gib, 2}}
		switch {
		case cpu > 8:
			add("cloudrun.resources", cpuP, "cpu %s is more than Cloud Run's maximum of 8 vCPU", cpuText)
		case mem > 32*gib:
			add("cloudrun.resources", memP, "memory %s is more than Cloud Run's maximum of 32Gi", memText)
		case cpu <= 0.5 && mem > gib:
			add("cloudrun.resources", memP, "memory %s is too much for cpu %s: at 0.5 vCPU or less an instance has at most 1Gi", memText, cpuText)
		default:
			for _, n := range needs {
				if mem > n.above && cpu < n.cpu {
					add("cloudrun.resources", cpuP, "memory %s needs at least %g vCPU; cpu is %s", memText, n.cpu, cpuText)
					break
				}
			}
		}
		if len(probs["cloudrun.resources"]) == 0 {
			notes["cloudrun.resources"] = fmt.Sprintf("cpu %s with memory %s", cpuText, memText)
		}
	}

	// Below 1 vCPU, concurrency must be 1 [facts].
	if len(probs["cloudrun.resources"]) == 0 && len(probs["cloudrun.concurrency"]) == 0 && svc.CPU < 1 {
		switch {
		case !svc.ConcurrencySet || svc.Concurrency == 0:
			add("cloudrun.cpu-concurrency", pathContainers+"[0].resources.limits.cpu",
				"cpu %s is below 1 vCPU, where Cloud Run allows only containerConcurrency 1; containerConcurrency is not set, which means 80", svc.CPUText)
		case svc.Concurrency != 1:
			add("cloudrun.cpu-concurrency", pathConcurrency,
				"cpu %s is below 1 vCPU, where Cloud Run allows only containerConcurrency 1; you set %d", svc.CPUText, svc.Concurrency)
		}
	}
	if len(probs["cloudrun.cpu-concurrency"]) == 0 {
		if svc.CPU < 1 {
			notes["cloudrun.cpu-concurrency"] = "below 1 vCPU with containerConcurrency 1"
		} else {
			notes["cloudrun.cpu-concurrency"] = fmt.Sprintf("%g vCPU allows containerConcurrency %d", svc.CPU, cc)
		}
	}

	// Request timeout [facts: default 300 s, at most 3600 s].
	if len(probs["cloudrun.timeout"]) == 0 {
		if svc.TimeoutSet && (svc.TimeoutSeconds < 1 || svc.TimeoutSeconds > maxTimeout) {
			add("cloudrun.timeout", pathTimeout, "timeoutSeconds is %d; a request timeout is 1–%d seconds", svc.TimeoutSeconds, maxTimeout)
		} else if svc.TimeoutSet {
			notes["cloudrun.timeout"] = fmt.Sprintf("requests time out after %d s", svc.TimeoutSeconds)
		} else {
			notes["cloudrun.timeout"] = "timeoutSeconds is not set: 300 s"
		}
	}
	if len(probs["cloudrun.schema"]) == 0 {
		notes["cloudrun.schema"] = "every field is one Cloud Run reads"
	}
	if len(probs["cloudrun.service"]) == 0 {
		notes["cloudrun.service"] = fmt.Sprintf("service %q", svc.Name)
	}

	out := make([]grader.Check, 0, len(staticChecks))
	for _, c := range staticChecks {
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
