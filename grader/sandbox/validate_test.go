package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSpecsFromSubmissionsAreValidated(t *testing.T) {
	ok := ContainerSpec{Name: "app", Env: map[string]string{"PORT": "8080"}, Health: &HealthCheck{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: time.Second}}
	for _, tt := range []struct {
		name   string
		change func(*ContainerSpec)
		want   string // "" means valid
	}{
		{"valid", func(*ContainerSpec) {}, ""},
		{"empty name", func(s *ContainerSpec) { s.Name = "" }, "not a network name"},
		{"name of 64 characters", func(s *ContainerSpec) { s.Name = strings.Repeat("a", 64) }, "not a network name"},
		{"name with a space", func(s *ContainerSpec) { s.Name = "my app" }, "not a network name"},
		{"bad alias", func(s *ContainerSpec) { s.Aliases = []string{"a/b"} }, "network alias"},
		{"env name with =", func(s *ContainerSpec) { s.Env = map[string]string{"A=B": "x"} }, "environment variable name"},
		{"env value with NUL", func(s *ContainerSpec) { s.Env = map[string]string{"A": "x\x00y"} }, "NUL"},
		{"health check without command", func(s *ContainerSpec) { s.Health = &HealthCheck{Test: []string{"CMD"}} }, "CMD or CMD-SHELL"},
		{"health check NONE", func(s *ContainerSpec) { s.Health = &HealthCheck{Test: []string{"NONE", "x"}} }, "CMD or CMD-SHELL"},
		{"interval below a millisecond", func(s *ContainerSpec) { s.Health.Interval = time.Microsecond }, "outside 1 ms-1 h"},
		{"negative timeout", func(s *ContainerSpec) { s.Health.Timeout = -time.Second }, "outside 1 ms-1 h"},
		{"retries", func(s *ContainerSpec) { s.Health.Retries = 1000 }, "retries"},
		{"negative memory", func(s *ContainerSpec) { s.MemoryMB = -1 }, "negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := ok
			h := *ok.Health
			spec.Health = &h
			tt.change(&spec)
			err := spec.validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused a valid spec: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidSpec)):
				t.Fatalf("got %v, want an ErrInvalidSpec saying %q", err, tt.want)
			}
		})
	}
}

func TestRelayAddressesAreValidated(t *testing.T) {
	for addr, want := range map[string]string{
		"app:8080":        "",
		"172.18.0.2:80":   "",
		"app:0":           "not a TCP port",
		"app:65536":       "not a TCP port",
		"app:http":        "not a TCP port",
		"app":             "not HOST:PORT",
		"a b:80":          "neither an address",
		"[::1]:8080":      "",
		"app:-1":          "not a TCP port",
		"x.y:99999999999": "not a TCP port",
	} {
		err := validAddr(addr)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: got %v, want %q", addr, err, want)
		}
	}
}

func TestBudgetWaitsAndSaysSo(t *testing.T) {
	b := newBudget(Budget{Containers: 1, MemoryMB: 100}, Limits{MaxMemoryMB: 50})
	ctx := t.Context()
	if _, err := b.acquire(ctx, 50, nil); err != nil {
		t.Fatal(err)
	}
	var told []string
	done := make(chan time.Duration)
	go func() {
		waited, err := b.acquire(ctx, 50, func(msg string) { told = append(told, msg) })
		if err != nil {
			t.Error(err)
		}
		done <- waited
	}()
	time.Sleep(50 * time.Millisecond)
	b.release(50)
	<-done
	if len(told) != 1 || !strings.Contains(told[0], "1 of 1 containers") {
		t.Fatalf("the waiting grading was told %q", told)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(short, 50, nil); err == nil || !strings.Contains(err.Error(), "waited") {
		t.Fatalf("a grading out of time while waiting: %v", err)
	}
}
