package autoscaling

import (
	"fmt"
	"regexp"
	"time"

	"coldstart/grader"
)

// Scenario is an exercise's requirements: the service to scale, what its
// app does, the day of traffic it meets, and the objectives it is judged
// on. Traffic rates and request times are real; only the scaler's clock
// (metric periods, alarms, cooldowns, task start-up) is compressed, one
// minute of the day playing in MinuteMs.
type Scenario struct {
	// ResourceID is the service, as Application Auto Scaling names it.
	ResourceID string `yaml:"resourceId"`
	// DesiredCount is the service's task count before scaling starts;
	// registering the scalable target moves it into [min, max].
	DesiredCount int `yaml:"desiredCount"`
	App          struct {
		Parallelism int `yaml:"parallelism"`
		WorkMs      int `yaml:"workMs"`
		// MemoryPercent is the task's memory utilisation, which does not
		// move with the load.
		MemoryPercent float64 `yaml:"memoryPercent"`
	} `yaml:"app"`
	// TaskStartSeconds is how long a new task takes, in the day's time,
	// from the scaler's decision to its first request.
	TaskStartSeconds float64 `yaml:"taskStartSeconds"`
	// MinuteMs is how long one minute of the day plays, in real time.
	MinuteMs int     `yaml:"minuteMs"`
	Traffic  []Phase `yaml:"traffic"`
	Latency  struct {
		ThresholdMs    int     `yaml:"thresholdMs"`
		MaxSlowPercent float64 `yaml:"maxSlowPercent"`
	} `yaml:"latency"`
	Budget struct {
		TaskSeconds float64 `yaml:"taskSeconds"`
	} `yaml:"budget"`
	Trial struct {
		TaskCap      int   `yaml:"taskCap"`
		TaskMemoryMB int64 `yaml:"taskMemoryMB"`
		GraceMs      int   `yaml:"graceMs"`
	} `yaml:"trial"`
}

// Phase is one stretch of the day: RPS requests per second at its start,
// changing evenly to ToRPS by its end when ToRPS is set.
type Phase struct {
	Name    string   `yaml:"name"`
	Minutes float64  `yaml:"minutes"`
	RPS     float64  `yaml:"rps"`
	ToRPS   *float64 `yaml:"toRps"`
}

// Limits of a scenario, so that a grading stays short and light.
const (
	maxPlayed  = 20 * time.Second
	maxRPS     = 200
	maxTaskCap = 10
)

var resourceIDPattern = regexp.MustCompile(`^service/[A-Za-z0-9_-]{1,255}/[A-Za-z0-9_-]{1,255}$`)

// LoadScenario decodes and checks an exercise's scenario.
func LoadScenario(spec grader.Spec) (*Scenario, error) {
	var s Scenario
	if err := spec.DecodeScenario(&s); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if s.Trial.TaskCap == 0 {
		s.Trial.TaskCap = 8
	}
	if s.Trial.TaskMemoryMB == 0 {
		s.Trial.TaskMemoryMB = 32
	}
	if s.Trial.GraceMs == 0 {
		s.Trial.GraceMs = 1000
	}
	switch {
	case !resourceIDPattern.MatchString(s.ResourceID):
		return nil, fmt.Errorf("scenario: resourceId %q must be service/CLUSTER/SERVICE", s.ResourceID)
	case s.DesiredCount < 0 || s.DesiredCount > s.Trial.TaskCap:
		return nil, fmt.Errorf("scenario: desiredCount must be 0 to trial.taskCap (%d)", s.Trial.TaskCap)
	case s.App.Parallelism < 1 || s.App.WorkMs < 1:
		return nil, fmt.Errorf("scenario: app.parallelism and app.workMs must be at least 1")
	case s.MinuteMs < 50:
		return nil, fmt.Errorf("scenario: minuteMs must be at least 50")
	case len(s.Traffic) == 0:
		return nil, fmt.Errorf("scenario: traffic needs at least one phase")
	case s.Latency.ThresholdMs < 1 || s.Latency.MaxSlowPercent < 0 || s.Latency.MaxSlowPercent > 100:
		return nil, fmt.Errorf("scenario: latency needs thresholdMs and a maxSlowPercent from 0 to 100")
	case s.Budget.TaskSeconds <= 0:
		return nil, fmt.Errorf("scenario: budget.taskSeconds must be above 0")
	case s.Trial.TaskCap < 1 || s.Trial.TaskCap > maxTaskCap:
		return nil, fmt.Errorf("scenario: trial.taskCap must be 1 to %d", maxTaskCap)
	}
	for i, ph := range s.Traffic {
		to := ph.RPS
		if ph.ToRPS != nil {
			to = *ph.ToRPS
		}
		if ph.Minutes <= 0 || ph.RPS < 0 || to < 0 || ph.RPS > maxRPS || to > maxRPS {
			return nil, fmt.Errorf("scenario: traffic[%d] needs minutes above 0 and rates from 0 to %d requests/s", i, maxRPS)
		}
	}
	if d := s.Played(); d > maxPlayed {
		return nil, fmt.Errorf("scenario: the day plays in %s, more than the %s a grading may take", d, maxPlayed)
	}
	return &s, nil
}

// Minutes is the length of the day.
func (s *Scenario) Minutes() float64 {
	var m float64
	for _, ph := range s.Traffic {
		m += ph.Minutes
	}
	return m
}

// Minute is one minute of the day in real time.
func (s *Scenario) Minute() time.Duration { return time.Duration(s.MinuteMs) * time.Millisecond }

// Played is how long the day plays in real time.
func (s *Scenario) Played() time.Duration {
	return time.Duration(s.Minutes() * float64(s.Minute()))
}

// TimeScale is how many seconds of the day one real second plays.
func (s *Scenario) TimeScale() float64 { return 60 / s.Minute().Seconds() }

// real turns seconds of the day into the time the grader plays.
func (s *Scenario) real(daySeconds float64) time.Duration {
	return time.Duration(daySeconds / s.TimeScale() * float64(time.Second))
}

// TaskRPS is what one task serves with every slot busy.
func (s *Scenario) TaskRPS() float64 {
	return float64(s.App.Parallelism) * 1000 / float64(s.App.WorkMs)
}
