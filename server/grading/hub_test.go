package grading_test

import (
	"testing"

	"coldstart/server/grading"
)

func TestHubReplaysAndEndsWithDone(t *testing.T) {
	h := grading.NewHub()
	h.Publish(1, grading.Update{Type: "running", Title: "first"})
	replay, ch, stop := h.Subscribe(1)
	defer stop()
	if len(replay) != 1 || replay[0].Title != "first" {
		t.Fatalf("replay = %+v", replay)
	}
	h.Publish(2, grading.Update{Type: "running"}) // another job: not seen
	h.Publish(1, grading.Update{Type: "check", CheckID: "a"})
	h.Publish(1, grading.Update{Type: "done", Verdict: "pass"})
	var got []string
	for u := range ch {
		got = append(got, u.Type)
	}
	if len(got) != 2 || got[0] != "check" || got[1] != "done" {
		t.Fatalf("updates = %v, want check then done and a closed channel", got)
	}
	// A late subscriber of a finished job gets no stale history.
	replay, _, stop2 := h.Subscribe(1)
	defer stop2()
	if len(replay) != 0 {
		t.Fatalf("history kept after done: %+v", replay)
	}
}

func TestHubResetForgetsProgressOfRequeuedJob(t *testing.T) {
	h := grading.NewHub()
	_, _, stop := h.Subscribe(7)
	defer stop()
	h.Publish(7, grading.Update{Type: "running"})
	h.Reset(7)
	replay, _, stop2 := h.Subscribe(7)
	defer stop2()
	if len(replay) != 0 {
		t.Fatalf("replay after reset = %+v", replay)
	}
}
