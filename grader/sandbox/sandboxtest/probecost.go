package sandboxtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"coldstart/grader/sandbox"
)

// ProbeCosts are the latencies of one HTTP probe of an app in a grading
// network, taken three ways in the same scope, one after another.
type ProbeCosts struct {
	// Relay: the grader's request through the relay exec'd in the network,
	// as every probe of a grading goes (the relay already running).
	Relay []time.Duration
	// Exec: one exec of curl in a container on the network, the probe run
	// by a program inside the network and read back through the Docker API.
	Exec []time.Duration
	// InNetwork: the same probe timed inside the network alone: a shell in
	// a container there runs it in a loop, and one probe is the loop's time
	// less that of an empty loop, divided by its length. It is what a probe
	// costs with no carrier at all.
	InNetwork []time.Duration
}

// loopLength is how many probes one in-network loop runs.
const loopLength = 20

// MeasureProbes starts an app and a prober on a network of sb and takes n
// probes of the app each way. The probe is GET /healthz of the api-worker
// lab, the probe a task definition's grading makes most.
func MeasureProbes(tb testing.TB, sb *sandbox.Sandbox, n int) ProbeCosts {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sc := sb.Scope("probe-cost-" + fmt.Sprint(time.Now().UnixNano()%1e6))
	defer sc.Close(context.WithoutCancel(ctx))
	nw, err := sc.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := sc.Start(ctx, sandbox.ContainerSpec{Name: "app", Cmd: []string{"api-worker"},
		Env: map[string]string{"STARTUP_DELAY": "0s", "WORKING_SET_MB": "1"}, Networks: []string{nw.Name}, MemoryMB: 64}); err != nil {
		tb.Fatal(err)
	}
	prober, err := sc.Start(ctx, sandbox.ContainerSpec{Name: "prober", Cmd: []string{"pause"}, Networks: []string{nw.Name}, MemoryMB: 32})
	if err != nil {
		tb.Fatal(err)
	}
	const url = "http://app:8080/healthz"
	hc := &http.Client{Transport: sc.Transport(nw), Timeout: 10 * time.Second}
	get := func() error {
		res, err := hc.Get(url)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
	// Wait for the app, which also starts the relay: both are warm below.
	for i := 0; get() != nil; i++ {
		if i == 100 {
			tb.Fatalf("the app did not answer %s through the relay", url)
		}
		time.Sleep(100 * time.Millisecond)
	}
	curl := []string{"curl", "--fail", "--silent", "--output", "/dev/null", url}
	loop := func(k int) string {
		return fmt.Sprintf("for i in %s; do %s || exit 1; done", strings.TrimSpace(strings.Repeat("x ", k)), strings.Join(curl, " "))
	}
	exec := func(cmd []string) time.Duration {
		began := time.Now()
		code, out, err := prober.Exec(ctx, cmd)
		if err != nil || code != 0 {
			tb.Fatalf("exec %q in the prober: exit %d, %v: %s", cmd, code, err, out)
		}
		return time.Since(began)
	}
	var pc ProbeCosts
	for range n {
		began := time.Now()
		if err := get(); err != nil {
			tb.Fatalf("probe through the relay: %v", err)
		}
		pc.Relay = append(pc.Relay, time.Since(began))
	}
	for range n {
		pc.Exec = append(pc.Exec, exec(curl))
	}
	for range n {
		empty := exec([]string{"/bin/sh", "-c", "for i in x; do true; done"})
		full := exec([]string{"/bin/sh", "-c", loop(loopLength)})
		pc.InNetwork = append(pc.InNetwork, max(0, full-empty)/loopLength)
	}
	return pc
}

// Quantile returns the q-quantile of ds (0.5: the median).
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
