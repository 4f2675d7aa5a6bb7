package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"

	"coldstart/grader"
	"coldstart/grader/sandbox/sandboxtest"
	"coldstart/server/grading"
)

// TestFortySidecarsCreateNoContainer grades a task definition with 40
// sidecars on top of the reference answer's own containers (ECS accepts at
// most 10 container definitions) on the real engine, while watching the
// engine's event stream for this grader's containers. The definition must
// be refused statically and the engine must report no container created for
// its grading. The reference answer is graded next on the same stream: its
// containers show up, which proves the stream was live, and since the
// engine sends events in order, once its containers are reported removed
// every earlier event has been seen.
func TestFortySidecarsCreateNoContainer(t *testing.T) {
	ex := builtinExercise(t, "fargate-task-definition")
	sb := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if _, err := sb.LabImage(ctx); err != nil {
		t.Fatal(err)
	}
	ev := sandboxtest.WatchEvents(t, sb)
	eng := gradingEngine(sb, nil)

	var td map[string]any
	if err := json.Unmarshal(ex.Solution, &td); err != nil {
		t.Fatal(err)
	}
	defs := td["containerDefinitions"].([]any)
	for i := range 40 {
		defs = append(defs, map[string]any{"name": fmt.Sprintf("metrics-%d", i),
			"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/metrics-agent:1.8.0", "essential": false, "cpu": 8, "memory": 16})
	}
	td["containerDefinitions"] = defs
	body, err := json.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}

	const flood, reference = "forty-sidecars", "reference"
	res := eng.Grade(ctx, grader.Request{Spec: grading.SpecOf(ex), Body: body, ID: flood})
	if res.Status != grader.StatusFail {
		t.Fatalf("status %s (%s): want fail", res.Status, res.Reason)
	}
	want := fmt.Sprintf("lists %d containers", len(defs))
	var counted bool
	for _, c := range res.Checks {
		switch {
		case c.ID == "taskdef.container-count":
			counted = true
			if c.Status != grader.CheckFail || !strings.Contains(c.Message, want) {
				t.Errorf("%s: %s %q, want a failure saying it %s", c.ID, c.Status, c.Message, want)
			}
		case c.Phase == grader.PhaseRun && c.Status != grader.CheckSkip:
			t.Errorf("run check %s is %s; a definition ECS refuses must not run", c.ID, c.Status)
		}
	}
	if !counted {
		t.Error("no taskdef.container-count check in the result")
	}

	ok := eng.Grade(ctx, grader.Request{Spec: grading.SpecOf(ex), Body: ex.Solution, ID: reference})
	if ok.Status != grader.StatusPass {
		t.Fatalf("the reference answer: %s (%s), want pass", ok.Status, ok.Reason)
	}
	ev.WaitFor(t, time.Minute, "the reference answer's containers removed", func() bool {
		c := ev.Count(reference, events.ActionCreate)
		return c > 0 && ev.Count(reference, events.ActionDestroy) == c
	})
	if n := ev.Count(flood, events.ActionCreate); n != 0 {
		t.Errorf("the engine created %d containers for the forty-sidecar definition, want none", n)
	}
	for g, n := range ev.Gradings() {
		if g != reference {
			t.Errorf("the engine reported %d containers created for grading %q, want only the reference answer's", n, g)
		}
	}
	t.Logf("engine events: %v containers created per grading", ev.Gradings())
}
