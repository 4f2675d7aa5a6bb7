package grading

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"coldstart/grader"
	"coldstart/server/store"
)

// metrics are what an operator watches of the grading pool.
type metrics struct {
	gradings   *prometheus.CounterVec // by exercise and verdict
	ungradable *prometheus.CounterVec // by reason
	duration   prometheus.Histogram
	busy       prometheus.Gauge
}

func newMetrics(st *store.Store, reg prometheus.Registerer) *metrics {
	m := &metrics{
		gradings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coldstart_gradings_total",
			Help: "Gradings finished, by exercise and verdict (pass, fail, error)."}, []string{"exercise", "verdict"}),
		ungradable: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coldstart_gradings_ungradable_total",
			Help: "Gradings that could not judge the answer (verdict error; no attempt counted), by reason."}, []string{"reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "coldstart_grading_seconds",
			Help: "Time from a worker taking a job to its verdict.", Buckets: []float64{.01, .05, .1, .5, 1, 2, 5, 10, 20, 40, 60}}),
		busy: prometheus.NewGauge(prometheus.GaugeOpts{Name: "coldstart_grading_workers_busy", Help: "Workers grading right now."}),
	}
	if reg != nil {
		reg.MustRegister(m.gradings, m.ungradable, m.duration, m.busy, &queueCollector{store: st, now: time.Now})
	}
	return m
}

func (m *metrics) record(exercise string, res *grader.Result, took time.Duration) {
	m.gradings.WithLabelValues(exercise, string(res.Status)).Inc()
	if res.Status == grader.StatusError {
		m.ungradable.WithLabelValues(ungradableReason(res)).Inc()
	}
	m.duration.Observe(took.Seconds())
}

// Reasons a grading could not judge, as metric labels. The Result carries
// the reason in plain words for the student; these are the few kinds of
// them, told apart by the phrases the grader and the pool use.
const (
	reasonUnreadable      = "unreadable"         // not a submission: does not parse, too large
	reasonTimeLimit       = "time_limit"         // the grading ran past its wall-clock limit
	reasonInterrupted     = "interrupted"        // the grading was stopped
	reasonEngine          = "engine_unavailable" // the container engine could not be reached
	reasonExerciseRemoved = "exercise_removed"   // a course reload removed the exercise
	reasonOther           = "other"
)

const exerciseRemovedReason = "this exercise is no longer part of the course, so it cannot be graded"

func ungradableReason(res *grader.Result) string {
	for _, c := range res.Checks {
		if c.ID == "submission.parse" {
			return reasonUnreadable
		}
	}
	r := res.Reason
	switch {
	case r == exerciseRemovedReason:
		return reasonExerciseRemoved
	case strings.HasPrefix(r, "the submission could not be read"), strings.HasPrefix(r, "the submission is "):
		return reasonUnreadable
	case strings.Contains(r, "took longer than its limit"):
		return reasonTimeLimit
	case strings.Contains(r, "interrupted"):
		return reasonInterrupted
	case strings.Contains(r, "container engine"):
		return reasonEngine
	}
	return reasonOther
}

// queueCollector reads the queue from the store at each scrape, so the
// figures are right even for jobs left by an earlier run.
type queueCollector struct {
	store *store.Store
	now   func() time.Time
}

var (
	queueDepthDesc = prometheus.NewDesc("coldstart_grading_queue_depth",
		"Grading jobs by state (queued: waiting for a worker; running).", []string{"state"}, nil)
	queueOldestDesc = prometheus.NewDesc("coldstart_grading_queue_oldest_seconds",
		"How long the oldest queued answer has waited; 0 when none waits.", nil, nil)
)

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- queueOldestDesc
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := q.store.Queue(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Queued), "queued")
	ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Running), "running")
	age := 0.0
	if !st.OldestQueued.IsZero() {
		age = max(q.now().Sub(st.OldestQueued).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, age)
}
