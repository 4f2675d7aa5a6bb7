package main

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"coldstart/grader/sandbox"
)

func TestLabMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newLabMetrics(reg)
	m.observe(sandbox.LabBuild{Image: "coldstart-lab:1", Built: true}, 3*time.Second, nil)
	m.observe(sandbox.LabBuild{Image: "coldstart-lab:1"}, 20*time.Millisecond, nil)
	m.observe(sandbox.LabBuild{Image: "coldstart-lab:1"}, 20*time.Millisecond, nil)
	m.observe(sandbox.LabBuild{}, time.Second, errors.New("the lab programs could not be built"))
	got := gatherCounted(t, reg, "coldstart_lab_image_builds_total", "coldstart_lab_image_build_seconds")
	for k, want := range map[string]float64{"built": 1, "cached": 2, "failed": 1, "observed": 4, "sum": 4.04} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], want, got)
		}
	}
}

func TestContainerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newContainerMetrics(reg)
	m.observe(400*time.Millisecond, nil)
	m.observe(3*time.Second, nil)
	m.observe(time.Second, errors.New("no available IPv4 addresses"))
	got := gatherCounted(t, reg, "coldstart_container_starts_total", "coldstart_container_start_seconds")
	for k, want := range map[string]float64{"started": 2, "failed": 1, "observed": 2, "sum": 3.4} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], want, got)
		}
	}
}

// gatherCounted reads a counter by its one label and a histogram's count
// ("observed") and sum from the registry.
func gatherCounted(t *testing.T, reg *prometheus.Registry, counter, histogram string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			switch mf.GetName() {
			case counter:
				got[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
			case histogram:
				got["observed"] = float64(s.GetHistogram().GetSampleCount())
				got["sum"] = s.GetHistogram().GetSampleSum()
			}
		}
	}
	return got
}
