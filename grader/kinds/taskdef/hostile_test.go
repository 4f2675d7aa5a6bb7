package taskdef_test

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
)

// hostileHealthCheck is a CMD-SHELL health check that looks for the host:
// it reads the routing table, derives every gateway and the first address
// of every subnet the task is on, and calls each of them and each of the
// host's own addresses on the port of a listener the test opened on all of
// them; then it checks the app, so that the task becomes healthy.
func hostileHealthCheck(port string, hostAddrs []string) string {
	return `hex() { echo $((16#$1)); }; addr() { h=$1; echo $(hex ${h:6:2}).$(hex ${h:4:2}).$(hex ${h:2:2}).$(hex ${h:0:2}); }; ` +
		`found=""; while read -r iface dest gw rest; do [ "$iface" = "Iface" ] && continue; ` +
		`[ "$gw" != "00000000" ] && found="$found $(addr $gw)"; ` +
		`if [ "$dest" != "00000000" ]; then d=$(addr $dest); found="$found ${d%.*}.$(( ${d##*.} + 1 ))"; fi; done < /proc/net/route; ` +
		`for a in $found ` + strings.Join(hostAddrs, " ") + `; do echo "try $a"; curl -s -m 1 -o /dev/null http://$a:` + port + `/ && echo "reached $a"; done; ` +
		`curl -fsS http://localhost:8080/healthz > /dev/null`
}

// TestHostileHealthCheckReachesNoHostAddress grades a task definition
// whose health check hunts for the host, with a listener on every host
// address: no connection arrives, and the health check did run.
func TestHostileHealthCheckReachesNoHostAddress(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	eng := newEngine(t)
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
	var hostAddrs []string
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ifaddrs {
		if p, ok := a.(*net.IPNet); ok && p.IP.To4() != nil && !p.IP.IsLoopback() {
			hostAddrs = append(hostAddrs, p.IP.String())
		}
	}
	if len(hostAddrs) == 0 {
		t.Fatal("this host has no IPv4 address besides loopback to try")
	}

	var td map[string]any
	if err := json.Unmarshal(ex.Solution, &td); err != nil {
		t.Fatal(err)
	}
	app := td["containerDefinitions"].([]any)[0].(map[string]any)
	hc := app["healthCheck"].(map[string]any)
	hc["command"] = []string{"CMD-SHELL", hostileHealthCheck(port, hostAddrs)}
	hc["timeout"] = 20
	body, err := json.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	res := eng.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: body})
	healthy := res.Check("run.healthy")
	if healthy == nil {
		t.Fatalf("no run.healthy check: %s", dump(t, res))
	}
	t.Logf("run.healthy: %s: %s (observed: %s)", healthy.Status, healthy.Message, healthy.Observed)
	if !strings.Contains(healthy.Observed, "try ") {
		t.Fatalf("the hostile health check never ran to the end, so its silence proves nothing: %s", dump(t, res))
	}
	if n := arrived.Load(); n > 0 {
		t.Fatalf("%d connection(s) from the task's health check arrived at the host", n)
	}
}
