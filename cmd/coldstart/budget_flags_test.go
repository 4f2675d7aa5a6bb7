package main

import (
	"io"
	"strings"
	"testing"
)

func TestEngineLimitFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		// want is the cap, the container budget and the memory budget in
		// MiB; err a phrase of the error when the values are refused.
		want [3]int64
		err  string
	}{
		{"Defaults", nil, nil, [3]int64{64, 128, 16 << 10}, ""},
		{"Flags", []string{"--grading-containers", "10", "--container-budget", "20", "--memory-budget", "8GiB"}, nil, [3]int64{10, 20, 8 << 10}, ""},
		{"FromEnv", nil, map[string]string{"COLDSTART_GRADING_CONTAINERS": "32", "COLDSTART_CONTAINER_BUDGET": "40", "COLDSTART_MEMORY_BUDGET": "1.5G"}, [3]int64{32, 40, 1536}, ""},
		{"FlagBeatsEnv", []string{"--memory-budget", "4096mib"}, map[string]string{"COLDSTART_MEMORY_BUDGET": "2GiB"}, [3]int64{64, 128, 4096}, ""},
		{"TiB", []string{"--memory-budget", "1TiB"}, nil, [3]int64{64, 128, 1 << 20}, ""},

		{"CapZero", []string{"--grading-containers", "0"}, nil, [3]int64{}, `--grading-containers (COLDSTART_GRADING_CONTAINERS) must be a whole number from 1 to 1000, not "0"`},
		{"CapNegative", []string{"--grading-containers", "-3"}, nil, [3]int64{}, `not "-3"`},
		{"CapGarbage", nil, map[string]string{"COLDSTART_GRADING_CONTAINERS": "lots"}, [3]int64{}, `(COLDSTART_GRADING_CONTAINERS) must be a whole number from 1 to 1000, not "lots"`},
		{"BudgetZero", []string{"--container-budget", "0"}, nil, [3]int64{}, `--container-budget (COLDSTART_CONTAINER_BUDGET) must be a whole number from 1 to 10000, not "0"`},
		{"BudgetFraction", []string{"--container-budget", "2.5"}, nil, [3]int64{}, `not "2.5"`},
		{"CapAboveBudget", []string{"--grading-containers", "100", "--container-budget", "50"}, nil, [3]int64{}, "--grading-containers 100 is more than --container-budget 50"},
		{"MemoryNoUnit", []string{"--memory-budget", "16"}, nil, [3]int64{}, `--memory-budget (COLDSTART_MEMORY_BUDGET): "16" has no unit`},
		{"MemoryZero", []string{"--memory-budget", "0GiB"}, nil, [3]int64{}, `"0GiB" is not a size`},
		{"MemoryNegative", []string{"--memory-budget", "-1GiB"}, nil, [3]int64{}, `"-1GiB" is not a size`},
		{"MemoryUnknownUnit", []string{"--memory-budget", "16XB"}, nil, [3]int64{}, "the units are KiB, MiB, GiB and TiB"},
		{"MemoryGarbageEnv", nil, map[string]string{"COLDSTART_MEMORY_BUDGET": "plenty"}, [3]int64{}, `(COLDSTART_MEMORY_BUDGET): "plenty" is not a size`},
		{"MemoryTwoDots", []string{"--memory-budget", "1.2.3GiB"}, nil, [3]int64{}, `"1.2.3GiB" is not a size`},
		{"MemoryBelowOneContainer", []string{"--memory-budget", "512MiB"}, nil, [3]int64{}, "less than 1GiB, the memory limit of one grading container"},
		{"MemoryHuge", []string{"--memory-budget", "99999999TiB"}, nil, [3]int64{}, "more than any engine has"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			m := &Main{}
			err := m.ParseFlags(tt.args, io.Discard)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// What the server's sandbox is built with, not only what was parsed.
			sb, err := m.Engine.newSandbox("unix:///nowhere.sock", "flags-test", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close()
			got := [3]int64{int64(sb.Limits().MaxContainers), int64(sb.Budget().Containers), sb.Budget().MemoryMB}
			if got != tt.want {
				t.Fatalf("cap, container budget, memory budget = %v, want %v", got, tt.want)
			}
		})
	}
}
