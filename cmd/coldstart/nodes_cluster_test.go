package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"coldstart/server/store"
)

// natsCluster is three nats-server instances with JetStream, clustered
// over routes on loopback, as docs/deployment.md configures them.
type natsCluster struct {
	t     *testing.T
	opts  []*natsserver.Options
	nodes []*natsserver.Server
}

func newNATSCluster(t *testing.T, token string) *natsCluster {
	t.Helper()
	c := &natsCluster{t: t}
	var routes []string
	clientPorts := make([]int, 3)
	for i := range 3 {
		clientPorts[i] = freeLoopbackPort(t)
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(freeLoopbackPort(t)))
	}
	for i := range 3 {
		routePort, _ := strconv.Atoi(routes[i][strings.LastIndex(routes[i], ":")+1:])
		c.opts = append(c.opts, &natsserver.Options{
			ServerName: "nats" + strconv.Itoa(i+1), Host: "127.0.0.1", Port: clientPorts[i],
			Authorization: token, JetStream: true, StoreDir: filepath.Join(t.TempDir(), "nats"),
			Cluster: natsserver.ClusterOpts{Name: "coldstart", Host: "127.0.0.1", Port: routePort},
			Routes:  natsserver.RoutesFromStr(strings.Join(routes, ",")),
			NoSigs:  true, NoLog: true,
		})
	}
	c.nodes = make([]*natsserver.Server, 3)
	for i := range 3 {
		c.start(i)
	}
	t.Cleanup(func() {
		for _, s := range c.nodes {
			if s != nil {
				s.Shutdown()
			}
		}
	})
	return c
}

func (c *natsCluster) start(i int) {
	c.t.Helper()
	s, err := natsserver.NewServer(c.opts[i])
	if err != nil {
		c.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		c.t.Fatalf("nats%d did not start", i+1)
	}
	c.nodes[i] = s
}

func (c *natsCluster) stop(i int) {
	c.nodes[i].Shutdown()
	c.nodes[i].WaitForShutdown()
	c.nodes[i] = nil
}

func (c *natsCluster) urls() string {
	var u []string
	for _, o := range c.opts {
		u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(u, ",")
}

// busiest is the running server with the most client connections.
func (c *natsCluster) busiest() int {
	best, most := -1, -1
	for i, s := range c.nodes {
		if s != nil && s.NumClients() > most {
			best, most = i, s.NumClients()
		}
	}
	return best
}

// TestGradingOnANATSClusterThatLosesAServer grades on two grader nodes
// through an external three-server NATS cluster whose streams keep three
// copies; the server with the most clients is stopped while nodes grade
// and started again later. Every answer ends with its right verdict,
// counted once.
func TestGradingOnANATSClusterThatLosesAServer(t *testing.T) {
	engine := realEngineHost(t)
	ctx := context.Background()
	c := newNodeCluster(t, 10*time.Second)
	cluster := newNATSCluster(t, c.token)
	c.natsURL = cluster.urls()
	st, err := store.Open(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	answers := newNodeAnswers(t, st)
	answers.add(1, "fargate-task-definition", "fargate-roles", "serverless-criteria")
	defer func() {
		if t.Failed() {
			c.dumpLogs()
		}
	}()

	c.web = c.start("web", "serve", "--addr", "127.0.0.1:0", "--db", c.db, "--workers", "0",
		"--nats", c.natsURL, "--nats-replicas", "3", "--nats-ack-wait", c.ackWait.String())
	c.startNode("n1")
	c.startNode("n2")

	waitUntil(t, 2*time.Minute, "no grading ran", func() bool { return answers.runningOn("") != 0 })
	lost := cluster.busiest()
	cluster.stop(lost)
	t.Logf("nats%d stopped while nodes graded", lost+1)
	time.Sleep(5 * time.Second)
	cluster.start(lost)
	t.Logf("nats%d started again", lost+1)

	answers.waitAllDone(4 * time.Minute)
	c.stop("n1", c.nodes["n1"])
	c.stop("n2", c.nodes["n2"])
	c.stop("web", c.web)
	answers.check()
	for _, n := range []string{"n1", "n2"} {
		assertNothingLeft(t, engine, "node-"+n)
	}
}
