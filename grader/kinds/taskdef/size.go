package taskdef

import (
	"fmt"
	"strconv"
	"strings"
)

// fargateSizes lists, per CPU units, the memory sizes Fargate offers
// (facts.md, "Valid Fargate task sizes").
var fargateSizes = []struct {
	cpu            int64
	min, max, step int64
	list           []int64
}{
	{cpu: 256, list: []int64{512, 1024, 2048}},
	{cpu: 512, list: []int64{1024, 2048, 3072, 4096}},
	{cpu: 1024, min: 2048, max: 8192, step: 1024},
	{cpu: 2048, min: 4096, max: 16384, step: 1024},
	{cpu: 4096, min: 8192, max: 30720, step: 1024},
	{cpu: 8192, min: 16384, max: 61440, step: 4096},
	{cpu: 16384, min: 32768, max: 122880, step: 8192},
}

// ParseCPU reads a task-level cpu: units ("1024") or vCPUs ("1 vCPU" or
// "1 vcpu"). It returns CPU units. The API reference documents the string
// form with whole vCPUs only ("as a string using vCPUs (for example, 1 vCPU
// or 1 vcpu)… String values are converted to an integer indicating the CPU
// units", RegisterTaskDefinition, cpu) and says nothing of fractions such
// as ".5 vCPU": such a string is read, since no source says ECS refuses
// it, but no message ever suggests it.
func ParseCPU(s string) (int64, error) {
	t := strings.TrimSpace(s)
	lower := strings.ToLower(t)
	if strings.HasSuffix(lower, "vcpu") {
		num := strings.TrimSpace(t[:len(t)-4])
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f <= 0 || f > 1e6 {
			return 0, fmt.Errorf("%q is not a number of vCPUs such as \"1 vCPU\"", s)
		}
		units := f * 1024
		if units != float64(int64(units)) {
			return 0, fmt.Errorf("%q is not a whole number of CPU units", s)
		}
		return int64(units), nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is neither CPU units such as \"1024\" nor vCPUs such as \"1 vCPU\"", s)
	}
	return n, nil
}

// ParseMemory reads a task-level memory: MiB ("2048") or GB ("2 GB" or
// "2GB", "converted to an integer indicating the MiB", RegisterTaskDefinition,
// memory). It returns MiB.
func ParseMemory(s string) (int64, error) {
	t := strings.TrimSpace(s)
	lower := strings.ToLower(t)
	if strings.HasSuffix(lower, "gb") {
		num := strings.TrimSpace(t[:len(t)-2])
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f <= 0 || f > 1e6 {
			return 0, fmt.Errorf("%q is not a size in GB such as \"2 GB\"", s)
		}
		mib := f * 1024
		if mib != float64(int64(mib)) {
			return 0, fmt.Errorf("%q is not a whole number of MiB", s)
		}
		return int64(mib), nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is neither MiB such as \"2048\" nor GB such as \"2 GB\"", s)
	}
	return n, nil
}

// memoryChoices returns the memory sizes Fargate offers with cpu units, or
// nil when cpu is not a Fargate size.
func memoryChoices(cpu int64) []int64 {
	for _, s := range fargateSizes {
		if s.cpu != cpu {
			continue
		}
		if s.list != nil {
			return s.list
		}
		var out []int64
		for m := s.min; m <= s.max; m += s.step {
			out = append(out, m)
		}
		return out
	}
	return nil
}

// describeChoices says which memory sizes a CPU size allows, in words.
func describeChoices(cpu int64) string {
	for _, s := range fargateSizes {
		if s.cpu != cpu {
			continue
		}
		if s.list != nil {
			parts := make([]string, len(s.list))
			for i, m := range s.list {
				parts[i] = strconv.FormatInt(m, 10)
			}
			return strings.Join(parts, ", ") + " MiB"
		}
		return fmt.Sprintf("%d–%d MiB in steps of %d", s.min, s.max, s.step)
	}
	return ""
}

func fargateCPUs() string {
	parts := make([]string, len(fargateSizes))
	for i, s := range fargateSizes {
		parts[i] = strconv.FormatInt(s.cpu, 10)
	}
	return strings.Join(parts, ", ")
}

func vcpu(units int64) string {
	return strconv.FormatFloat(float64(units)/1024, 'f', -1, 64) + " vCPU"
}
