package taskdef

import (
	"strings"
	"testing"

	"coldstart/grader/sandbox"
)

// The health checks the engine stopped at their timeout are reported with
// what was seen: how many in a row and the engine's own words.
func TestTimedOutHealthChecksSayWhatWasSeen(t *testing.T) {
	log := []sandbox.HealthResult{{ExitCode: -1, Output: "Health check exceeded timeout (2s)"}, {ExitCode: -1, Output: "Health check exceeded timeout (2s)"}}
	if !allTimedOut(log, 2) {
		t.Fatal("two timed-out checks are not seen as timed out")
	}
	for _, tt := range []struct {
		retries int
		want    string
	}{{2, "each of the last 2 health checks"}, {0, "each of the last 2 health checks"}, {5, "each of the last 2 health checks"}} {
		msg := timedOutMessage(log, tt.retries)
		if !strings.Contains(msg, tt.want) || !strings.Contains(msg, `"Health check exceeded timeout (2s)"`) {
			t.Errorf("retries %d: %q, want it to say %q and quote the engine", tt.retries, msg, tt.want)
		}
	}
}
