package cloudrun

import (
	"fmt"
	"math"
	"strconv"
)

// Cloud Run's CPU and memory rules, from "Configure CPU limits for
// services" (cloud.google.com/run/docs/configuring/services/cpu) and
// "Configure memory limits" (…/configuring/services/memory-limits); the
// same table is in facts.md, Cloud Run.

const (
	mib = 1 << 20
	gib = 1 << 30

	minCPU       = 0.08 // "The minimum vCPU setting is 0.08 vCPU."
	maxCPU       = 8    // "The maximum amount of vCPU you can configure is 8 vCPU."
	maxMemory    = 32 * gib
	minMemoryGen = 128 * mib // first generation; 512 MiB for the second
)

// cpuRow is one row of the vCPU and memory table for whole vCPUs.
type cpuRow struct {
	cpu      float64
	min, max int64 // bytes
}

// wholeCPUs are the vCPU values above the fractional range ("Values greater
// than 1 must be integer values", and the table lists 1, 2, 4, 6 and 8).
var wholeCPUs = []cpuRow{
	{1, 0, 4 * gib},
	{2, 0, 8 * gib},
	{4, 2 * gib, 16 * gib},
	{6, 4 * gib, 24 * gib},
	{8, 4 * gib, 32 * gib},
}

func sizeText(b int64) string {
	switch {
	case b%gib == 0:
		return strconv.FormatInt(b/gib, 10) + "Gi"
	case b%mib == 0:
		return strconv.FormatInt(b/mib, 10) + "Mi"
	}
	return strconv.FormatInt(b, 10) + " bytes"
}

// resourceProblem returns what is wrong with a cpu and memory pair, and the
// path it concerns, or "" when Cloud Run offers the pair.
func resourceProblem(svc *Service, cpuText, memText string) (path, msg string) {
	cpuP, memP := pathContainers+"[0].resources.limits.cpu", pathContainers+"[0].resources.limits.memory"
	cpu, mem := svc.CPU, svc.MemoryBytes
	switch {
	case cpu > maxCPU:
		return cpuP, fmt.Sprintf("cpu %s is more than Cloud Run's maximum of 8 vCPU", cpuText)
	case cpu < minCPU:
		return cpuP, fmt.Sprintf("cpu %s is below Cloud Run's minimum of 0.08 vCPU", cpuText)
	case cpu < 1 && math.Abs(cpu*1000-math.Round(cpu*1000)) > 1e-6:
		return cpuP, fmt.Sprintf("cpu %s is not a step Cloud Run offers: below 1 vCPU the value goes in steps of 0.001 (such as 0.5 or 500m)", cpuText)
	case mem > maxMemory:
		return memP, fmt.Sprintf("memory %s is more than Cloud Run's maximum of 32Gi", memText)
	}
	if minMem := minMemory(svc); mem < minMem {
		env := "the first generation execution environment"
		if svc.ExecEnv == "gen2" {
			env = "the second generation execution environment"
		}
		msg := fmt.Sprintf("memory %s is below Cloud Run's minimum of %s for %s", memText, sizeText(minMem), env)
		if _, err := strconv.ParseFloat(memText, 64); err == nil {
			msg += " (a quantity without a suffix counts bytes: write 512Mi or 1Gi)"
		}
		return memP, msg
	}
	if cpu < 1 {
		// "A minimum of 0.5 vCPU is needed to set a memory limit greater
		// than 512MiB. A minimum of 1 vCPU is needed to set a memory limit
		// greater than 1GiB."
		switch {
		case mem > gib:
			return cpuP, fmt.Sprintf("memory %s needs at least 1 vCPU (above 1Gi); cpu is %s", memText, cpuText)
		case mem > 512*mib && cpu < 0.5:
			return cpuP, fmt.Sprintf("memory %s needs at least 0.5 vCPU (above 512Mi); cpu is %s", memText, cpuText)
		}
		return "", ""
	}
	for _, r := range wholeCPUs {
		if cpu != r.cpu {
			continue
		}
		switch {
		case mem > r.max:
			return memP, fmt.Sprintf("memory %s is more than %g vCPU allows (up to %s): %s", memText, r.cpu, sizeText(r.max), needsForMemory(mem))
		case mem < r.min:
			return memP, fmt.Sprintf("memory %s is less than %g vCPU needs: Cloud Run's table gives %g vCPU %s to %s", memText, r.cpu, r.cpu, sizeText(r.min), sizeText(r.max))
		}
		return "", ""
	}
	return cpuP, fmt.Sprintf("cpu %s is not a size Cloud Run offers: above 1 vCPU the values are 2, 4, 6 and 8", cpuText)
}

// needsForMemory says which CPU the memory needs ("Required minimum CPUs").
func needsForMemory(mem int64) string {
	for _, n := range []struct {
		above int64
		cpu   int
	}{{24 * gib, 8}, {16 * gib, 6}, {8 * gib, 4}, {4 * gib, 2}} {
		if mem > n.above {
			return fmt.Sprintf("more than %s needs at least %d vCPU", sizeText(n.above), n.cpu)
		}
	}
	return "pick a larger CPU"
}

// minMemory is the smallest memory limit for the execution environment:
// 128 MiB for the first generation, 512 MiB for the second. When the
// service names none, Cloud Run may choose either, so the first
// generation's minimum applies.
func minMemory(svc *Service) int64 {
	if svc.ExecEnv == "gen2" {
		return 512 * mib
	}
	return minMemoryGen
}

// belowOneCPUProblems lists what Cloud Run enforces below 1 vCPU besides
// memory: "Maximum concurrency must be set to 1", "The billing settings
// must be set to request-based billing", "You must use the first
// generation execution environment" (Configure CPU limits for services).
func belowOneCPUProblems(svc *Service) (out []problem) {
	if svc.ConcurrencySet && svc.Concurrency > 1 {
		out = append(out, problem{path: pathConcurrency,
			msg: fmt.Sprintf("cpu %s is below 1 vCPU, where Cloud Run allows only containerConcurrency 1; you set %d", svc.CPUText, svc.Concurrency)})
	}
	if svc.CPUThrottling == "false" {
		out = append(out, problem{path: annotationPath(pathAnnotations, annCPUThrottling),
			msg: fmt.Sprintf("cpu %s is below 1 vCPU, where Cloud Run needs request-based billing; %s \"false\" asks for instance-based billing", svc.CPUText, annCPUThrottling)})
	}
	if svc.ExecEnv == "gen2" {
		out = append(out, problem{path: annotationPath(pathAnnotations, annExecEnv),
			msg: fmt.Sprintf("cpu %s is below 1 vCPU, where Cloud Run needs the first generation execution environment; %s is gen2", svc.CPUText, annExecEnv)})
	}
	return out
}
