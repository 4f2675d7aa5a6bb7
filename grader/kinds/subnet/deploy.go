package subnet

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"coldstart/grader"
	"coldstart/grader/sandbox"
)

// The container engine refuses two networks with overlapping subnets, and
// two students may well submit the same CIDR blocks. Run phases of subnet
// gradings therefore take turns: runTurn holds one token.
var runTurn = make(chan struct{}, 1)

func takeTurn(ctx context.Context) (release func(), err error) {
	select {
	case runTurn <- struct{}{}:
		return func() { <-runTurn }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startParallel is how many containers are being started at once. Measured
// on a 2-core host: 16 starts took 18 s one at a time, 12 s eight at a time,
// and no less with sixteen; the engine serialises much of each start.
const startParallel = 8

// cleanupLimit bounds the removal of a deploy's containers and networks.
const cleanupLimit = 30 * time.Second

// Container sizes: the pause lab needs a few MiB and no CPU to speak of.
const (
	containerMemoryMB = 16
	containerNanoCPUs = 100_000_000
)

// placement is one container of the deploy: a task or another ENI.
type placement struct {
	label  string // "task 9/16" or "ENI 2/3 of 10.20.0.16/28"
	name   string // the container's short name
	task   int    // 1-based task number; 0 for other ENIs
	subnet int    // index into the subnets
	ip     string
	// pending holds the engine's refusal when no address was free.
	pending string
}

// deploy plays out the rolling deploy in real containers: one internal
// network per subnet with AWS's reserved addresses held back, the other ENIs,
// then the peak number of tasks spread round-robin across the subnets.
func deploy(ctx context.Context, g *grader.Grading, s Scenario, subnets []netip.Prefix, check grader.Check) error {
	g.Running(check.ID, check.Title)
	scope, err := sandbox.Open(ctx, g)
	if err != nil {
		return err
	}
	release, err := takeTurn(ctx)
	if err != nil {
		return fmt.Errorf("waiting for another subnet grading to finish: %w", err)
	}
	// The networks are removed before the turn passes on, so the next
	// grading finds its blocks free. This must run even when the grading's
	// time is up.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupLimit)
		defer cancel()
		if err := scope.Close(cctx); err != nil {
			g.Logf("clean-up: %v", err)
		}
		release()
	}()

	began := time.Now()
	nets, err := createNetworks(ctx, g, scope, check.ID, subnets)
	if err != nil {
		return err
	}
	g.Logf("networks ready in %d ms", time.Since(began).Milliseconds())
	var enis []*placement
	for i, p := range subnets {
		for k := 1; k <= s.ExtraENIsPerSubnet; k++ {
			enis = append(enis, &placement{label: fmt.Sprintf("ENI %d/%d of %s", k, s.ExtraENIsPerSubnet, p),
				name: fmt.Sprintf("eni-%d-%d", i+1, k), subnet: i})
		}
	}
	began = time.Now()
	if err := place(ctx, g, scope, check.ID, subnets, nets, enis); err != nil {
		return err
	}
	peak := s.Peak()
	tasks := make([]*placement, peak)
	for t := range tasks {
		tasks[t] = &placement{label: fmt.Sprintf("task %d/%d", t+1, peak), name: fmt.Sprintf("task-%d", t+1), task: t + 1, subnet: t % len(subnets)}
	}
	if err := place(ctx, g, scope, check.ID, subnets, nets, tasks); err != nil {
		return err
	}
	g.Logf("%d other ENIs and %d tasks placed in %d ms", len(enis), len(tasks), time.Since(began).Milliseconds())
	g.Add(judgeDeploy(check, s, subnets, enis, tasks))
	return nil
}

// stopMargin is how much of the run phase's time is kept back: no container
// is started later than this before its deadline, so that starts still in
// flight can finish (in this and the engine's grader.RunMargin) and be
// removed cleanly rather than be cut off half-way.
const stopMargin = 2 * time.Second

// place starts one pause container per placement, a few at a time, in order.
// A container the engine cannot give an address is recorded as pending; any
// other failure, or an engine too slow to finish in time, ends the grading as
// not judged. Starts already under way are always let finish.
func place(ctx context.Context, g *grader.Grading, scope *sandbox.Scope, checkID string, subnets []netip.Prefix, nets []*subnetNet, ps []*placement) error {
	if len(ps) == 0 {
		return nil
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		stopOnce sync.Once
	)
	work := make(chan *placement)
	stop := make(chan struct{})
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		stopOnce.Do(func() { close(stop) })
	}
	for range min(startParallel, len(ps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if err := start(ctx, g, scope, checkID, subnets, nets, p); err != nil {
					fail(err)
				}
			}
		}()
	}
	began := time.Now()
feed:
	for i, p := range ps {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < stopMargin {
			fail(fmt.Errorf("the container engine is too busy right now: after %s only %d of %d containers had been started, too few to finish within the grading's time limit; this attempt does not count",
				time.Since(began).Round(time.Second), i, len(ps)))
			break
		}
		select {
		case work <- p:
		case <-stop:
			break feed
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func start(ctx context.Context, g *grader.Grading, scope *sandbox.Scope, checkID string, subnets []netip.Prefix, nets []*subnetNet, p *placement) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	n := nets[p.subnet]
	c, err := scope.Start(ctx, sandbox.ContainerSpec{Name: p.name, Cmd: []string{"pause"}, Networks: []string{n.net.Name},
		MemoryMB: containerMemoryMB, NanoCPUs: containerNanoCPUs})
	if err != nil {
		if msg, ok := noAddress(err); ok {
			p.pending = msg
			g.Progress(checkID, "%s gets no address: no free IPv4 address in %s, so it cannot start", p.label, subnets[p.subnet])
			g.Logf("%s in %s: the engine said: %s", p.label, subnets[p.subnet], msg)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s could not be started: %w", p.label, err)
	}
	ip, err := c.IP(ctx, n.net.Name)
	if err != nil {
		return err
	}
	if p.ip, err = n.show(ip); err != nil {
		return err
	}
	g.Progress(checkID, "%s → %s", p.label, p.ip)
	return nil
}

// noAddress reports whether err is the engine refusing a container because
// its network has no address left, and returns the engine's words.
func noAddress(err error) (string, bool) {
	s := err.Error()
	i := strings.Index(strings.ToLower(s), "no available ipv4 address")
	if i < 0 {
		return "", false
	}
	return strings.TrimSpace(s[i:]), true
}

// judgeDeploy turns what the engine did into the deploy check.
func judgeDeploy(c grader.Check, s Scenario, subnets []netip.Prefix, enis, tasks []*placement) grader.Check {
	c.Phase = grader.PhaseRun
	placed := make([]int, len(subnets))
	enisIn := make([]int, len(subnets))
	var pending []*placement
	for _, p := range enis {
		if p.ip != "" {
			enisIn[p.subnet]++
		} else {
			pending = append(pending, p)
		}
	}
	for _, p := range tasks {
		if p.ip != "" {
			placed[p.subnet]++
		} else {
			pending = append(pending, p)
		}
	}
	var per []string
	for i, p := range subnets {
		per = append(per, fmt.Sprintf("%s: %d tasks + %d other ENIs", p, placed[i], enisIn[i]))
	}
	got := len(tasks) - countTasks(pending)
	c.Observed = fmt.Sprintf("%d of %d tasks got an address (%s)", got, len(tasks), strings.Join(per, "; "))
	c.Expected = fmt.Sprintf("all %d tasks of the deploy peak and %d other ENIs per subnet get an address", len(tasks), s.ExtraENIsPerSubnet)
	if len(pending) == 0 {
		c.Status, c.Points = grader.CheckPass, c.MaxPoints
		c.Message = fmt.Sprintf("the rolling deploy reached its peak of %d tasks (desiredCount %d × maximumPercent %d%%) and every task got an address", len(tasks), s.DesiredCount, s.MaximumPercent)
		return c
	}
	first := pending[0]
	var nums []string
	for _, p := range pending {
		if p.task > 0 {
			nums = append(nums, fmt.Sprint(p.task))
		}
	}
	c.Status, c.Points = grader.CheckFail, 0
	c.Field = fmt.Sprintf("/subnets/%d", first.subnet)
	c.Message = fmt.Sprintf("%s gets no address: no free IPv4 address in %s (the engine said: %s)", first.label, subnets[first.subnet], first.pending)
	if len(nums) > 0 {
		// Only what the platform confirms: a task without an ENI never
		// reaches RUNNING. Which state it is reported in is not claimed.
		c.Message += fmt.Sprintf("; %d of %d tasks get no address (tasks %s), so they never reach RUNNING and the deploy stalls", len(nums), len(tasks), strings.Join(nums, ", "))
	}
	return c
}

func countTasks(ps []*placement) int {
	n := 0
	for _, p := range ps {
		if p.task > 0 {
			n++
		}
	}
	return n
}
