package main

import (
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
