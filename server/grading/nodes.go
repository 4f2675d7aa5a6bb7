package grading

import (
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"coldstart/grader/jobs"
)

// nodeTimeout is how long a node may go unheard before it counts as gone;
// nodes heartbeat every 2 seconds.
const nodeTimeout = 10 * time.Second

// NodeStatus is what the web server last heard of a grader node.
type NodeStatus struct {
	Name     string    `json:"name"`
	Workers  int       `json:"workers"`
	Busy     int       `json:"busy"`
	Graded   int64     `json:"graded"`
	Engine   string    `json:"engine"`
	Format   int       `json:"format"`
	Started  time.Time `json:"started"`
	LastSeen time.Time `json:"lastSeen"`
	holding  []int64
}

// Nodes keeps the grader nodes heard from.
type Nodes struct {
	mu    sync.Mutex
	now   func() time.Time
	nodes map[string]NodeStatus
}

func newNodes(now func() time.Time) *Nodes { return &Nodes{now: now, nodes: map[string]NodeStatus{}} }

func (n *Nodes) seen(hb jobs.Heartbeat) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nodes[hb.Node] = NodeStatus{Name: hb.Node, Workers: hb.Workers, Busy: hb.Busy, Graded: hb.Graded,
		Engine: hb.Engine, Format: hb.Format, Started: hb.Started, LastSeen: n.now(), holding: hb.Holding}
}

// holdAfter is how recent a heartbeat must be for the node to count as
// still grading what it lists: a little over two heartbeats.
const holdAfter = 5 * time.Second

// holds says whether node's heartbeat of the last holdAfter lists the
// submission, and whether it was heard from in that time at all.
func (n *Nodes) holds(node string, submission int64) (holds, heard bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.nodes[node]
	if !ok || s.LastSeen.Before(n.now().Add(-holdAfter)) {
		return false, false
	}
	for _, id := range s.holding {
		if id == submission {
			return true, true
		}
	}
	return false, true
}

// live returns the nodes heard from within nodeTimeout, by name; it
// forgets the others.
func (n *Nodes) live() []NodeStatus {
	n.mu.Lock()
	defer n.mu.Unlock()
	cut := n.now().Add(-nodeTimeout)
	out := make([]NodeStatus, 0, len(n.nodes))
	for name, s := range n.nodes {
		if s.LastSeen.Before(cut) {
			delete(n.nodes, name)
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// capacity is the workers of live nodes whose engine answers and that
// speak this version's format.
func (n *Nodes) capacity() int {
	c := 0
	for _, s := range n.live() {
		if s.Engine == "ok" && s.Format == jobs.Format {
			c += s.Workers
		}
	}
	return c
}

func (n *Nodes) busy() int {
	b := 0
	for _, s := range n.live() {
		b += s.Busy
	}
	return b
}

// ErrNoNode: no grader node has been heard from lately.
var ErrNoNode = errors.New("no grader node is connected")

func (n *Nodes) ready() error {
	live := n.live()
	if len(live) == 0 {
		return ErrNoNode
	}
	var why []string
	for _, s := range live {
		if s.Engine == "ok" && s.Format == jobs.Format {
			return nil
		}
		why = append(why, s.Name+": "+s.Engine)
	}
	return errors.New("no grader node's container engine answers (" + strings.Join(why, "; ") + ")")
}

// settled reports whether the named node has been heard from lately
// past its start: it takes jobs, or says why its engine does not answer.
func (n *Nodes) settled(name string) bool {
	for _, s := range n.live() {
		if s.Name == name && s.Engine != jobs.EngineStarting {
			return true
		}
	}
	return false
}
