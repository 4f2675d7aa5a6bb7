package taskdef_test

import (
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/taskdef"
)

// A container is named once in a message: "container "app" has no image",
// never "container container "app" …".
func TestMessagesNameAContainerOnce(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/fargate-task-definition")
	tests := []struct {
		name, want string
		change     func(td map[string]any)
	}{
		{"NoImage", `container "app" has no image`, func(td map[string]any) { app(td)["image"] = "" }},
		{"MemoryBelowReservation", `container "app": memory (the hard limit`, func(td map[string]any) {
			app(td)["memory"] = 256
			app(td)["memoryReservation"] = 512
		}},
		{"ContainerOverTask", `container "app"'s memory limit`, func(td map[string]any) { app(td)["memory"] = 999999 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := taskdef.CheckStatic(ex.Spec, edit(t, ex.Solution, tt.change))
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, c := range st.Checks {
				if c.Status == grader.CheckFail {
					msgs = append(msgs, c.Message)
				}
			}
			all := strings.Join(msgs, "\n")
			if !strings.Contains(all, tt.want) || strings.Contains(all, "container container") {
				t.Fatalf("failed checks say:\n%s\nwant %q, and no doubled word", all, tt.want)
			}
		})
	}
}
