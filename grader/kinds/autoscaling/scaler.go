package autoscaling

import (
	"fmt"
	"math"
)

// The alarms the grader plays for a target tracking policy, as the
// service's console shows the ones AWS creates: one datapoint a minute;
// the scale-out alarm when three datapoints in a row are above the target,
// the scale-in alarm when fifteen in a row are below nine tenths of it
// (AWS documents only that scale-in waits for a value well below the
// target, typically 10% or more, so the counts are the grader's model).
const (
	highDatapoints = 3
	lowDatapoints  = 15
	lowRatio       = 0.9
)

// Scaler plays Application Auto Scaling with one target tracking policy
// on a service's desired count, one datapoint a minute. Scale-out is
// proportional to the metric; while the scale-out cooldown runs, the tasks
// the last scale-out added count as part of the next one, so only a larger
// scale-out goes ahead. Scale-in removes what keeps the metric at or below
// the target, never below the minimum, and waits for its own cooldown; a
// scale-out during the scale-in cooldown goes ahead and ends it.
type Scaler struct {
	st      Settings
	desired int

	high, low int // datapoints in a row above the target, below the low threshold
	outUntil  float64
	inUntil   float64
	base      int // the desired count before the scale-out whose cooldown runs
	blocked   int // scale-outs the cooldown held back
}

// Decision is what one datapoint changed.
type Decision struct {
	From, To int
	Why      string
}

// NewScaler starts a scaler on a service of desired tasks: registering
// the scalable target moves the count into the range.
func NewScaler(st Settings, desired int) *Scaler {
	return &Scaler{st: st, desired: min(max(desired, st.Min), st.Max)}
}

// Desired is the service's desired count.
func (s *Scaler) Desired() int { return s.desired }

// Blocked is how many times the scale-out cooldown held a scale-out back.
func (s *Scaler) Blocked() int { return s.blocked }

// Observe takes the datapoint of the minute ending at now (seconds of the
// day); ok is false when the metric had no data (no task in service), and
// then nothing scales. It returns the change it made, if any.
func (s *Scaler) Observe(now, value float64, ok bool) *Decision {
	if !ok {
		s.high, s.low = 0, 0
		return nil
	}
	t := s.st.Target
	if value > t {
		s.high++
	} else {
		s.high = 0
	}
	if value < lowRatio*t {
		s.low++
	} else {
		s.low = 0
	}
	switch {
	case s.high >= highDatapoints:
		return s.scaleOut(now, value)
	case s.low >= lowDatapoints && !s.st.DisableScaleIn && now >= s.inUntil:
		return s.scaleIn(now, value)
	}
	return nil
}

func (s *Scaler) scaleOut(now, value float64) *Decision {
	inCooldown := now < s.outUntil
	ref := s.desired
	if inCooldown {
		ref = s.base
	}
	want := min(ceilTo(float64(ref)*value/s.st.Target), s.st.Max)
	if want <= s.desired {
		if inCooldown && s.desired < s.st.Max {
			s.blocked++
		}
		return nil
	}
	d := &Decision{From: s.desired, To: want, Why: fmt.Sprintf("%.0f above the target %g for %d minutes", value, s.st.Target, s.high)}
	if !inCooldown {
		s.base = s.desired
	}
	s.desired = want
	s.outUntil = now + float64(s.st.OutCooldown)
	s.inUntil = 0
	return d
}

func (s *Scaler) scaleIn(now, value float64) *Decision {
	want := max(ceilTo(float64(s.desired)*value/s.st.Target), s.st.Min)
	if want >= s.desired {
		return nil
	}
	d := &Decision{From: s.desired, To: want, Why: fmt.Sprintf("%.0f below %g for %d minutes", value, lowRatio*s.st.Target, s.low)}
	s.desired = want
	s.inUntil = now + float64(s.st.InCooldown)
	return d
}

// ceilTo rounds up, forgiving the float error of a product that is whole.
func ceilTo(x float64) int { return int(math.Ceil(x - 1e-9)) }
