package cloudrun

import (
	"errors"
	"fmt"
	"time"
)

// Scenario is the exercise's scenario block: what the app does, the traffic,
// the SLO, the budget, and how the trial is run on this machine.
type Scenario struct {
	App struct {
		// Parallelism is how many requests the app works on at once.
		Parallelism int `yaml:"parallelism"`
		// WorkMs is the time one request takes (waiting, not CPU).
		WorkMs int `yaml:"workMs"`
		// InitMs is the app's initialisation before it listens.
		InitMs int `yaml:"initMs"`
	} `yaml:"app"`
	Traffic []Phase `yaml:"traffic"`
	SLO     struct {
		P99Ms int `yaml:"p99Ms"`
	} `yaml:"slo"`
	Budget struct {
		InstanceSeconds float64 `yaml:"instanceSeconds"`
	} `yaml:"budget"`
	Trial TrialSettings `yaml:"trial"`
	// Canary, when set, makes the exercise a traffic split instead of the
	// morning: the submission's spec.traffic is played against one
	// container per revision (see canary.go).
	Canary *CanaryScenario `yaml:"canary"`
}

// Phase is one stretch of the traffic profile at a steady rate.
type Phase struct {
	Name    string  `yaml:"name"`
	Seconds float64 `yaml:"seconds"`
	RPS     float64 `yaml:"rps"`
}

// TrialSettings says how the small Cloud Run of the grader behaves.
type TrialSettings struct {
	// InstanceCap is the most instances the grader really starts.
	InstanceCap int `yaml:"instanceCap"`
	// InstanceMemoryMB is the memory of every instance's container.
	InstanceMemoryMB int64 `yaml:"instanceMemoryMB"`
	// TargetUtilization is the share of containerConcurrency the
	// autoscaler aims to keep busy per instance. Cloud Run's own
	// concurrency target is 60% ("About instance autoscaling"), the default.
	TargetUtilization float64 `yaml:"targetUtilization"`
	// IdleMs is how long an instance above minScale stays idle before it
	// is stopped.
	IdleMs int `yaml:"scaleDownAfterIdleMs"`
	// GraceMs is how long the trial waits for answers after the traffic
	// ends; requests still unanswered then count as failed.
	GraceMs int `yaml:"graceMs"`
}

func (s *Scenario) normalise() error {
	if s.App.Parallelism == 0 {
		s.App.Parallelism = 4
	}
	if s.App.WorkMs == 0 {
		s.App.WorkMs = 40
	}
	t := &s.Trial
	if t.InstanceCap == 0 {
		t.InstanceCap = 6
	}
	if t.InstanceMemoryMB == 0 {
		t.InstanceMemoryMB = 32
	}
	if t.TargetUtilization == 0 {
		t.TargetUtilization = 0.6
	}
	if t.IdleMs == 0 {
		t.IdleMs = 1000
	}
	if t.GraceMs == 0 {
		t.GraceMs = 1000
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(s.App.Parallelism >= 1 && s.App.Parallelism <= 64, "app.parallelism %d is not 1–64", s.App.Parallelism)
	check(s.App.WorkMs >= 1 && s.App.WorkMs <= 2000, "app.workMs %d is not 1–2000", s.App.WorkMs)
	check(s.App.InitMs >= 0 && s.App.InitMs <= 5000, "app.initMs %d is not 0–5000", s.App.InitMs)
	if s.Canary != nil {
		// The canary plays no morning: its scenario is its own.
		check(len(s.Traffic) == 0 && s.SLO.P99Ms == 0 && s.Budget.InstanceSeconds == 0,
			"canary is a scenario of its own: leave traffic, slo and budget to the morning exercises")
		if err := s.Canary.normalise(); err != nil {
			errs = append(errs, err)
		}
		check(t.InstanceMemoryMB >= 16 && t.InstanceMemoryMB <= 256, "trial.instanceMemoryMB %d is not 16–256", t.InstanceMemoryMB)
		return errors.Join(errs...)
	}
	check(len(s.Traffic) > 0, "traffic has no phases")
	total := 0.0
	for i, p := range s.Traffic {
		check(p.Seconds > 0 && p.RPS >= 0 && p.RPS <= 500, "traffic[%d] needs seconds > 0 and rps 0–500", i)
		total += p.Seconds
	}
	check(total <= 15, "the traffic lasts %.1f s; at most 15 s fit in a grading", total)
	check(s.SLO.P99Ms > 0, "slo.p99Ms is missing")
	check(s.Budget.InstanceSeconds > 0, "budget.instanceSeconds is missing")
	check(t.InstanceCap >= 1 && t.InstanceCap <= 10, "trial.instanceCap %d is not 1–10", t.InstanceCap)
	check(t.InstanceMemoryMB >= 16 && t.InstanceMemoryMB <= 256, "trial.instanceMemoryMB %d is not 16–256", t.InstanceMemoryMB)
	check(t.TargetUtilization > 0 && t.TargetUtilization <= 1, "trial.targetUtilization %g is not in (0, 1]", t.TargetUtilization)
	check(t.IdleMs >= 100 && t.IdleMs <= 10000, "trial.scaleDownAfterIdleMs %d is not 100–10000", t.IdleMs)
	check(t.GraceMs >= 100 && t.GraceMs <= 5000, "trial.graceMs %d is not 100–5000", t.GraceMs)
	return errors.Join(errs...)
}

// Duration is the length of the traffic profile.
func (s *Scenario) Duration() time.Duration {
	total := 0.0
	for _, p := range s.Traffic {
		total += p.Seconds
	}
	return time.Duration(total * float64(time.Second))
}

// peak returns the busiest phase.
func (s *Scenario) peak() Phase {
	var best Phase
	for _, p := range s.Traffic {
		if p.RPS > best.RPS {
			best = p
		}
	}
	return best
}
