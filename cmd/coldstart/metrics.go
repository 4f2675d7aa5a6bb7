package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"coldstart/grader/sandbox"
)

// labMetrics count the lab images the grader obtains: at first use after
// a start, or when the lab programs changed, an image is compiled and
// packed; otherwise the image of the same hash is found and reused.
type labMetrics struct {
	builds   *prometheus.CounterVec
	duration prometheus.Histogram
}

func newLabMetrics(reg prometheus.Registerer) *labMetrics {
	m := &labMetrics{
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coldstart_lab_image_builds_total",
			Help: "Lab images obtained, by result: built, cached (an image of the same hash existed) or failed."}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "coldstart_lab_image_build_seconds",
			Help: "Time to obtain the lab image (compile and pack when built).", Buckets: []float64{.1, .5, 1, 2, 5, 10, 20, 40, 80, 160}}),
	}
	reg.MustRegister(m.builds, m.duration)
	return m
}

func (m *labMetrics) observe(b sandbox.LabBuild, took time.Duration, err error) {
	result := "cached"
	switch {
	case err != nil:
		result = "failed"
	case b.Built:
		result = "built"
	}
	m.builds.WithLabelValues(result).Inc()
	m.duration.Observe(took.Seconds())
}

// containerMetrics count the grading containers the engine creates and
// starts, and how long each start takes: a start far slower than usual is
// the sign of an overloaded engine.
type containerMetrics struct {
	starts  *prometheus.CounterVec
	latency prometheus.Histogram
}

func newContainerMetrics(reg prometheus.Registerer) *containerMetrics {
	m := &containerMetrics{
		starts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coldstart_container_starts_total",
			Help: "Grading containers created and started, by result: started, or failed (the engine refused or timed out)."}, []string{"result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "coldstart_container_start_seconds",
			Help: "Time from asking the engine for a grading container until its process runs.", Buckets: []float64{.05, .1, .25, .5, 1, 2, 4, 8, 16}}),
	}
	reg.MustRegister(m.starts, m.latency)
	return m
}

func (m *containerMetrics) observe(took time.Duration, err error) {
	if err != nil {
		m.starts.WithLabelValues("failed").Inc()
		return
	}
	m.starts.WithLabelValues("started").Inc()
	m.latency.Observe(took.Seconds())
}

// engineUpGauge reports at each scrape whether the container engine
// answers: 1 when it does, 0 when it does not (or is still connecting).
func engineUpGauge(ready func(context.Context) error) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "coldstart_container_engine_up",
		Help: "1 when the container engine answers, 0 when gradings that run containers cannot start."},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if ready(ctx) != nil {
				return 0
			}
			return 1
		})
}
