package sandbox_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"coldstart/grader/sandbox"
	"coldstart/grader/sandbox/sandboxtest"
)

func TestScopeRunsContainersOnInternalNetworkAndCleansUp(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := sb.LabImage(ctx); err != nil {
		t.Fatal(err)
	}
	var started, refused atomic.Int32
	sandbox.ObserveContainerStarts(func(took time.Duration, err error) {
		if err != nil {
			refused.Add(1)
		} else if took > 0 {
			started.Add(1)
		}
	})
	defer sandbox.ObserveContainerStarts(nil)
	sc := sb.Scope("scope-test")
	nw, err := sc.Network(ctx, sandbox.NetworkSpec{Subnet: "10.231.0.0/28", Gateway: "10.231.0.1",
		Aux: map[string]string{"dns": "10.231.0.2", "future": "10.231.0.3"}})
	if err != nil {
		t.Fatal(err)
	}
	// A /28 has 16 addresses; the network, gateway, two auxiliary and
	// broadcast addresses leave 11 for containers, as in an AWS subnet.
	var ips []string
	for i := 0; i < 11; i++ {
		c, err := sc.Start(ctx, sandbox.ContainerSpec{Name: "eni", Cmd: []string{"pause"}, Networks: []string{nw.Name}, MemoryMB: 16})
		if err != nil {
			t.Fatalf("container %d: %v", i+1, err)
		}
		ip, err := c.IP(ctx, nw.Name)
		if err != nil {
			t.Fatal(err)
		}
		ips = append(ips, ip)
	}
	if ips[0] != "10.231.0.4" || ips[10] != "10.231.0.14" {
		t.Errorf("addresses %v: want 10.231.0.4 … 10.231.0.14", ips)
	}
	_, err = sc.Start(ctx, sandbox.ContainerSpec{Name: "eni", Cmd: []string{"pause"}, Networks: []string{nw.Name}, MemoryMB: 16})
	if err == nil || !strings.Contains(err.Error(), "no available IPv4 addresses") {
		t.Errorf("12th container: got %v, want the engine's no-address error", err)
	}
	// The metrics see every start the engine made and the one it refused.
	if started.Load() != 11 || refused.Load() != 1 {
		t.Errorf("observed %d container starts and %d refusals, want 11 and 1", started.Load(), refused.Load())
	}
	if err := sc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := sb.Leftovers(ctx); err != nil || n != 0 {
		t.Fatalf("leftovers after Close: %d, %v", n, err)
	}
}

func TestSweepRemovesWhatACrashLeft(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	sc := sb.Scope("crashed")
	nw, err := sc.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Start(ctx, sandbox.ContainerSpec{Name: "left", Cmd: []string{"pause"}, Networks: []string{nw.Name}}); err != nil {
		t.Fatal(err)
	}
	// The scope is never closed, as after a crash.
	n, err := sb.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("swept %d objects, want 2 (one container, one network)", n)
	}
}

// A network with a container still attached that the scope never recorded
// (another instance's, here) is removed all the same: the stranger is
// disconnected, not removed, and the grading leaves nothing behind.
func TestCloseRemovesANetworkAStrangerIsAttachedTo(t *testing.T) {
	sb := sandboxtest.New(t)
	other := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := sb.LabImage(ctx); err != nil {
		t.Fatal(err)
	}
	sc := sb.Scope("attached")
	nw, err := sc.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		t.Fatal(err)
	}
	osc := other.Scope("stranger")
	onw, err := osc.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := osc.Start(ctx, sandbox.ContainerSpec{Name: "stranger", Cmd: []string{"pause"}, Networks: []string{onw.Name}})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := client.New(client.WithHost(sb.Host()), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.NetworkConnect(ctx, nw.Name, client.NetworkConnectOptions{Container: stranger.ID}); err != nil {
		t.Fatal(err)
	}
	if err := sc.Close(ctx); err != nil {
		t.Fatalf("Close with a stranger attached: %v", err)
	}
	if n, err := sb.Leftovers(ctx); err != nil || n != 0 {
		t.Fatalf("leftovers after Close: %d, %v", n, err)
	}
	st, err := stranger.State(ctx)
	if err != nil || !st.Running {
		t.Fatalf("the stranger's container: %+v, %v; want it still running", st, err)
	}
	if err := osc.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
