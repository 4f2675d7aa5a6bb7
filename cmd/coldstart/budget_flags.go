package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"

	"coldstart/grader/sandbox"
)

// EngineLimits bound what gradings hold on the container engine: the cap
// on one grading's containers and the budget all gradings of the server
// share. Zero values are the sandbox's defaults.
type EngineLimits struct {
	GradingContainers int
	ContainerBudget   int
	MemoryBudgetMB    int64

	// The flags' text, parsed by validate so that a bad value, from the
	// command line or the environment, is refused with its name.
	gradingContainers, containerBudget, memoryBudget string
}

// register adds the flags to fs, with COLDSTART_* environment variables as
// defaults.
func (l *EngineLimits) register(fs *flag.FlagSet) {
	fs.StringVar(&l.gradingContainers, "grading-containers", env("COLDSTART_GRADING_CONTAINERS", strconv.Itoa(sandbox.DefaultLimits.MaxContainers)),
		"most containers one grading may start, whatever its kind; the subnet exercise needs up to about 49 (COLDSTART_GRADING_CONTAINERS)")
	fs.StringVar(&l.containerBudget, "container-budget", env("COLDSTART_CONTAINER_BUDGET", strconv.Itoa(sandbox.DefaultBudget.Containers)),
		"most containers all gradings hold on the engine at once; a grading waits for room (COLDSTART_CONTAINER_BUDGET)")
	fs.StringVar(&l.memoryBudget, "memory-budget", env("COLDSTART_MEMORY_BUDGET", formatMiB(sandbox.DefaultBudget.MemoryMB)),
		"most memory, as the sum of the containers' limits, all gradings hold at once, e.g. 16GiB or 8192MiB (COLDSTART_MEMORY_BUDGET)")
}

// validate parses and checks the flags' values.
func (l *EngineLimits) validate() error {
	var err error
	if l.GradingContainers, err = parseCount("--grading-containers", "COLDSTART_GRADING_CONTAINERS", l.gradingContainers, 1000); err != nil {
		return err
	}
	if l.ContainerBudget, err = parseCount("--container-budget", "COLDSTART_CONTAINER_BUDGET", l.containerBudget, 10000); err != nil {
		return err
	}
	if l.MemoryBudgetMB, err = parseMiB(l.memoryBudget); err != nil {
		return fmt.Errorf("--memory-budget (COLDSTART_MEMORY_BUDGET): %w", err)
	}
	if l.GradingContainers > l.ContainerBudget {
		return fmt.Errorf("--grading-containers %d is more than --container-budget %d: a grading at its cap would wait for room that never comes", l.GradingContainers, l.ContainerBudget)
	}
	if most := sandbox.DefaultLimits.MaxMemoryMB; l.MemoryBudgetMB < most {
		return fmt.Errorf("--memory-budget %s is less than %s, the memory limit of one grading container: no grading could start one", formatMiB(l.MemoryBudgetMB), formatMiB(most))
	}
	return nil
}

// newSandbox returns the sandbox of a server on the engine at host, with
// these limits.
func (l EngineLimits) newSandbox(host, instance string, logger *slog.Logger) (*sandbox.Sandbox, error) {
	return sandbox.New(sandbox.Options{Host: host, Instance: instance, Logger: logger,
		Limits: sandbox.Limits{MaxContainers: l.GradingContainers},
		Budget: sandbox.Budget{Containers: l.ContainerBudget, MemoryMB: l.MemoryBudgetMB}})
}

func parseCount(flagName, envName, s string, most int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("%s (%s) must be a whole number from 1 to %d, not %q", flagName, envName, most, s)
	}
	return n, nil
}

// memoryUnits are the units a memory size may carry. As for docker's
// --memory, k, m, g and t count in powers of 1024, however they are
// written.
var memoryUnits = map[string]float64{
	"k": 1.0 / 1024, "kb": 1.0 / 1024, "kib": 1.0 / 1024,
	"m": 1, "mb": 1, "mib": 1,
	"g": 1 << 10, "gb": 1 << 10, "gib": 1 << 10,
	"t": 1 << 20, "tb": 1 << 20, "tib": 1 << 20,
}

// parseMiB reads a size such as 16GiB, 512m or 1.5G, in MiB.
func parseMiB(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 && t != "" {
		return 0, fmt.Errorf("%q has no unit; write it as 16GiB or 8192MiB", s)
	}
	if i <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 16GiB or 8192MiB", s)
	}
	unit, ok := memoryUnits[strings.ToLower(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("%q is not a size such as 16GiB or 8192MiB (the units are KiB, MiB, GiB and TiB)", s)
	}
	v, err := strconv.ParseFloat(t[:i], 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a size such as 16GiB or 8192MiB", s)
	}
	mib := v * unit
	if mib > 1<<30 {
		return 0, fmt.Errorf("%q is more than any engine has", s)
	}
	return int64(mib), nil
}

// formatMiB writes a size in MiB as parseMiB reads it, in GiB when whole.
func formatMiB(mib int64) string {
	if mib%1024 == 0 {
		return strconv.FormatInt(mib>>10, 10) + "GiB"
	}
	return strconv.FormatInt(mib, 10) + "MiB"
}
