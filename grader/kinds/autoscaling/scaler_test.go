package autoscaling

import "testing"

// feed plays one datapoint a minute and returns the desired count after
// each.
func feed(s *Scaler, values ...float64) []int {
	out := make([]int, len(values))
	for i, v := range values {
		s.Observe(float64(i+1)*60, v, true)
		out[i] = s.Desired()
	}
	return out
}

func TestScalerFollowsTheTargetTrackingRules(t *testing.T) {
	base := Settings{Min: 2, Max: 10, Metric: MetricCPU, Target: 50, OutCooldown: 60, InCooldown: 300}
	low := make([]float64, 15)
	for i := range low {
		low[i] = 10
	}
	tests := []struct {
		name   string
		st     func(Settings) Settings
		start  int
		values []float64
		want   []int
	}{
		{"three minutes above the target scale out in proportion", nil, 2, []float64{100, 100, 100}, []int{2, 2, 4}},
		{"two minutes above are not enough", nil, 2, []float64{100, 100, 40, 100}, []int{2, 2, 2, 2}},
		{"the maximum caps the scale-out", func(s Settings) Settings { s.Max = 3; return s }, 2, []float64{100, 100, 100}, []int{2, 2, 3}},
		{"registration moves the count into the range", nil, 0, []float64{40}, []int{2}},
		{"once the cooldown is over the next scale-out starts from the new count", nil, 2, []float64{100, 100, 100, 100, 100}, []int{2, 2, 4, 8, 10}},
		{"a long cooldown counts the last scale-out's tasks in the next one", func(s Settings) Settings { s.OutCooldown = 900; return s }, 2, []float64{100, 100, 100, 100, 100, 100}, []int{2, 2, 4, 4, 4, 4}},
		{"fifteen minutes well below the target scale in", nil, 8, low, append(counts(8, 14), 2)},
		{"scale-in stops at the minimum", func(s Settings) Settings { s.Min = 4; return s }, 8, low, append(counts(8, 14), 4)},
		{"disabled scale-in keeps the tasks", func(s Settings) Settings { s.DisableScaleIn = true; return s }, 8, low, counts(8, 15)},
		{"just under the target is not low", nil, 4, repeat(46, 20), counts(4, 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base
			if tt.st != nil {
				st = tt.st(st)
			}
			got := feed(NewScaler(st, tt.start), tt.values...)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestScalerWaitsOutTheScaleInCooldownButNotForScaleOut(t *testing.T) {
	s := NewScaler(Settings{Min: 1, Max: 10, Target: 50, OutCooldown: 0, InCooldown: 600}, 8)
	feed(s, repeat(20, 15)...)
	if s.Desired() != 4 {
		t.Fatalf("after fifteen low minutes %d tasks, want 4", s.Desired())
	}
	// Still low, but inside the scale-in cooldown: nothing.
	for i := 16; i <= 20; i++ {
		s.Observe(float64(i)*60, 20, true)
	}
	if s.Desired() != 4 {
		t.Fatalf("scale-in inside its cooldown: %d tasks", s.Desired())
	}
	for i := 21; i <= 23; i++ {
		s.Observe(float64(i)*60, 100, true)
	}
	if s.Desired() != 8 {
		t.Fatalf("scale-out during the scale-in cooldown: %d tasks, want 8", s.Desired())
	}
	if s.Observe(24*60, 0, false) != nil {
		t.Fatal("a minute without data scaled")
	}
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func counts(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}
