package sandbox_test

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"coldstart/grader/sandbox"
	"coldstart/grader/sandbox/sandboxtest"
)

// hostileScript is what a student's CMD-SHELL health check can do to look
// for the host: read the routing table, derive every gateway and the first
// address of every subnet the container is on, and call each of them and
// each address given as an argument on the port given first. It prints what
// it tried and what answered.
const hostileScript = `port=$1; shift
hex() { echo $((16#$1)); }
addr() { h=$1; echo $(hex ${h:6:2}).$(hex ${h:4:2}).$(hex ${h:2:2}).$(hex ${h:0:2}); }
found=""
while read -r iface dest gw rest; do
  [ "$iface" = "Iface" ] && continue
  [ "$gw" != "00000000" ] && found="$found $(addr $gw)"
  if [ "$dest" != "00000000" ]; then
    d=$(addr $dest); found="$found ${d%.*}.$(( ${d##*.} + 1 ))"
  fi
done < /proc/net/route
for a in $found "$@"; do
  echo "try $a"
  curl -s -m 1 -o /dev/null http://$a:$port/ && echo "reached $a"
done
curl -s -m 2 -o /dev/null http://peer:8080/healthz && echo "reached peer"
true`

// TestSealedNetworkReachesNoHostAddress runs the hostile script both as a
// Docker health check and through exec in a grading container, with a
// listener on every address of the host: no connection arrives, while the
// same script reaches the other container of the grading.
func TestSealedNetworkReachesNoHostAddress(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var arrived atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			arrived.Add(1)
			t.Logf("connection from %s", c.RemoteAddr())
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	args := []string{port}
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ifaddrs {
		if p, ok := a.(*net.IPNet); ok && p.IP.To4() != nil && !p.IP.IsLoopback() {
			args = append(args, p.IP.String())
		}
	}
	if len(args) < 2 {
		t.Fatal("this host has no IPv4 address besides loopback to try")
	}
	// The listener answers on every one of them from the host itself.
	probe, err := net.DialTimeout("tcp", net.JoinHostPort(args[1], port), 2*time.Second)
	if err != nil {
		t.Fatalf("the listener is not reachable on %s from the host: %v", args[1], err)
	}
	probe.Close()
	time.Sleep(100 * time.Millisecond)
	arrived.Store(0)

	for _, spec := range []sandbox.NetworkSpec{{}, {Subnet: "10.239.7.0/24", Gateway: "10.239.7.1"}} {
		t.Run("subnet="+spec.Subnet, func(t *testing.T) {
			sc := sb.Scope("seal-test")
			defer sc.Close(context.WithoutCancel(ctx))
			nw, err := sc.Network(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			peerEnv := map[string]string{"STARTUP_DELAY": "0s", "WORKING_SET_MB": "1"}
			if _, err := sc.Start(ctx, sandbox.ContainerSpec{Name: "peer", Cmd: []string{"api-worker"}, Env: peerEnv, Networks: []string{nw.Name}, MemoryMB: 64}); err != nil {
				t.Fatal(err)
			}
			health := append([]string{"CMD", "/bin/sh", "-c", hostileScript, "sh"}, args...)
			c, err := sc.Start(ctx, sandbox.ContainerSpec{Name: "student", Cmd: []string{"pause"}, Networks: []string{nw.Name}, MemoryMB: 32,
				Health: &sandbox.HealthCheck{Test: health, Interval: time.Second, Timeout: 20 * time.Second, Retries: 3}})
			if err != nil {
				t.Fatal(err)
			}
			// The peer answers once started; the exec shows what the script tried.
			var out string
			for range 5 {
				_, out, err = c.Exec(ctx, append([]string{"/bin/sh", "-c", hostileScript, "sh"}, args...))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(out, "reached peer") {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			t.Logf("script output:\n%s", out)
			if !strings.Contains(out, "reached peer") {
				t.Fatalf("the script never reached the other container of its grading, so its silence proves nothing:\n%s", out)
			}
			if spec.Gateway != "" && !strings.Contains(out, "try "+spec.Gateway) {
				t.Errorf("the script did not find the network's gateway %s from the routing table:\n%s", spec.Gateway, out)
			}
			if strings.Contains(out, "reached "+args[1]) || arrived.Load() > 0 {
				t.Errorf("a grading container reached the host: %d connection(s) arrived", arrived.Load())
			}
			// Let the health check run a few times too.
			deadline := time.Now().Add(8 * time.Second)
			runs := 0
			for time.Now().Before(deadline) && runs < 2 {
				st, err := c.State(ctx)
				if err != nil {
					t.Fatal(err)
				}
				runs = len(st.HealthLog)
				time.Sleep(500 * time.Millisecond)
			}
			if runs == 0 {
				t.Fatal("the health check never ran")
			}
			if n := arrived.Load(); n > 0 {
				t.Errorf("%d connection(s) from a grading container arrived at the host", n)
			}
		})
	}
}
