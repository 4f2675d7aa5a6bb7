package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"coldstart/server/store"
)

// nodeCluster is `coldstart serve --workers 0` with its embedded NATS on a
// loopback port, and `coldstart grader` nodes, each a process of its own
// that the test can kill, freeze and restart.
type nodeCluster struct {
	t       *testing.T
	dir, db string
	natsURL string
	token   string
	ackWait time.Duration
	web     *exec.Cmd
	nodes   map[string]*exec.Cmd
}

func newNodeCluster(t *testing.T, ackWait time.Duration) *nodeCluster {
	dir := t.TempDir()
	return &nodeCluster{t: t, dir: dir, db: filepath.Join(dir, "coldstart.db"), token: randomHex(16),
		natsURL: "nats://" + freeLoopbackAddr(t), ackWait: ackWait, nodes: map[string]*exec.Cmd{}}
}

// freeLoopbackAddr is a loopback address with a port nothing listens on
// now; the web server takes it again at every restart.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (c *nodeCluster) start(name string, args ...string) *exec.Cmd {
	c.t.Helper()
	logf, err := os.OpenFile(filepath.Join(c.dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], append([]string{"--"}, args...)...)
	cmd.Env = append(os.Environ(), mainEnv+"=1", "COLDSTART_NATS_TOKEN="+c.token)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		logf.Close()
	})
	return cmd
}

func (c *nodeCluster) startWeb() {
	c.web = c.start("web", "serve", "--addr", "127.0.0.1:0", "--db", c.db, "--workers", "0",
		"--nats-listen", strings.TrimPrefix(c.natsURL, "nats://"), "--nats-ack-wait", c.ackWait.String())
}

func (c *nodeCluster) startNode(name string) {
	c.nodes[name] = c.start(name, "grader", "--nats", c.natsURL, "--name", name, "--workers", "1", "--addr", "off",
		"--grace", "5s")
}

func (c *nodeCluster) signal(cmd *exec.Cmd, sig syscall.Signal) {
	c.t.Helper()
	if err := cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("signal %v: %v", sig, err)
	}
	if sig == syscall.SIGKILL {
		_, _ = cmd.Process.Wait()
	}
}

// stop ends a process with SIGTERM and waits for a clean exit.
func (c *nodeCluster) stop(name string, cmd *exec.Cmd) {
	c.t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		c.t.Errorf("%s after SIGTERM: %v", name, err)
	}
}

func (c *nodeCluster) log(name string) string {
	b, _ := os.ReadFile(filepath.Join(c.dir, name+".log"))
	return string(b)
}

func (c *nodeCluster) dumpLogs() {
	for _, name := range []string{"web", "n1", "n2", "n3"} {
		c.t.Logf("%s log:\n%s", name, tailString(c.log(name), 5000))
	}
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestGraderNodesSurviveFaults grades container answers on three grader
// nodes while the test kills one node mid-grading, freezes another past
// the ack wait and lets it go on (its late verdict must be discarded), and
// kills the web server, with its embedded NATS, and starts it again. Every
// answer ends with its right verdict, counted once, and once the nodes have
// restarted and stopped nothing of theirs is left on the engine.
func TestGraderNodesSurviveFaults(t *testing.T) {
	engine := realEngineHost(t)
	ctx := context.Background()
	c := newNodeCluster(t, 10*time.Second)
	st, err := store.Open(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	answers := newNodeAnswers(t, st)
	answers.add(2, "fargate-task-definition", "subnet-sizing", "fargate-roles")
	table := builtinExercise(t, "serverless-criteria")
	tableUser := answers.student()
	for i := 0; i < 4; i++ {
		answers.submit(tableUser, table.ID, "solution "+strconv.Itoa(i), "pass", table.SolutionSeed(), table.Solution)
	}
	runningOn := answers.runningOn
	defer func() {
		if t.Failed() {
			c.dumpLogs()
		}
	}()

	c.startWeb()
	for _, n := range []string{"n1", "n2", "n3"} {
		c.startNode(n)
	}

	// 1. A node dies mid-grading: its job goes to another node.
	var killed int64
	waitUntil(t, 90*time.Second, "no grading ran on n1", func() bool { killed = runningOn("n1"); return killed != 0 })
	time.Sleep(1500 * time.Millisecond)
	c.signal(c.nodes["n1"], syscall.SIGKILL)
	t.Logf("SIGKILL n1 while it graded submission %d", killed)

	// 2. A node freezes past the ack wait: the job is given to another
	// node; when the frozen node goes on, its verdict comes too late.
	var frozen int64
	waitUntil(t, 90*time.Second, "no grading ran on n2", func() bool { frozen = runningOn("n2"); return frozen != 0 })
	c.signal(c.nodes["n2"], syscall.SIGSTOP)
	t.Logf("SIGSTOP n2 while it graded submission %d", frozen)
	waitUntil(t, 60*time.Second, "the frozen node's job was not given to another node", func() bool {
		n, _ := st.NodeOf(ctx, frozen)
		return n != "n2"
	})
	c.signal(c.nodes["n2"], syscall.SIGCONT)

	// 3. The web server and its NATS die while the nodes grade.
	waitUntil(t, 90*time.Second, "no grading ran while the web server was up", func() bool {
		return runningOn("n2") != 0 || runningOn("n3") != 0
	})
	c.signal(c.web, syscall.SIGKILL)
	t.Log("SIGKILL the web server while nodes graded")
	time.Sleep(3 * time.Second)
	c.startWeb()

	// The killed node comes back: it sweeps what it left and grades again.
	c.startNode("n1")

	answers.waitAllDone(5 * time.Minute)
	// The frozen node finishes its grading in its own time.
	const discarded = "an outcome from a lease since given to another node was discarded"
	waitUntil(t, 90*time.Second, "the frozen node's late verdict was not discarded: the web server's log does not say so",
		func() bool { return strings.Contains(c.log("web"), discarded) })
	for _, n := range []string{"n1", "n2", "n3"} {
		c.stop(n, c.nodes[n])
	}
	c.stop("web", c.web)

	answers.check(killed, frozen)
	for _, id := range []int64{killed, frozen} {
		if runs := answers.runs(id); runs < 2 {
			t.Errorf("submission %d was hit by a fault but graded in %d run", id, runs)
		}
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		assertNothingLeft(t, engine, "node-"+n)
	}
}
