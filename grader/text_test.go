package grader_test

import (
	"strings"
	"testing"

	"coldstart/grader"
)

func TestSuggest(t *testing.T) {
	known := []string{"containerConcurrency", "timeoutSeconds", "serviceAccountName", "memoryReservation", "essential"}
	tests := []struct{ name, want string }{
		{"containerConcurency", "containerConcurrency"},  // one letter missing
		{"ContainerConcurrency", "containerConcurrency"}, // case
		{"memory_reservation", "memoryReservation"},      // snake case
		{"service-account-name", "serviceAccountName"},   // kebab case
		{"esential", "essential"},
		{"replicas", ""}, // nothing close
		{"", ""},
	}
	for _, tt := range tests {
		if got := grader.Suggest(tt.name, known); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := grader.Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	long := strings.Repeat("é", 500)
	got := grader.Clip(long)
	if n := len([]rune(got)); n != 80 || !strings.HasSuffix(got, "…") {
		t.Errorf("Clip of 500 runes gave %d runes ending %q", n, got[len(got)-3:])
	}
}
