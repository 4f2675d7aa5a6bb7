package subnet_test

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/subnet"
	"coldstart/grader/sandbox"
	"coldstart/grader/sandbox/sandboxtest"
)

// containers is how many containers a seed's deploy starts.
func containers(req requirement) int { return req.peak + req.azs*req.enis }

// runCase is one plan played out in the run-phase property test.
type runCase struct {
	seed int64
	bits int
}

// pickCases chooses, from seeds 1–500, the seeds with the fewest containers
// (so the test stays quick) among two kinds: two AZs whose smallest subnet is
// a /27, graded with /27s and with /28s one size too small; and three AZs
// whose smallest is a /28, graded with /28s.
func pickCases(t *testing.T, ex gradertest.Exercise) []runCase {
	t.Helper()
	var two, three int64
	twoSize, threeSize := 1<<30, 1<<30
	for seed := int64(1); seed <= 500; seed++ {
		v, err := (subnet.Kind{}).Variant(ex.Spec, seed)
		if err != nil {
			t.Fatal(err)
		}
		req := independentRequirement(t, v.Params)
		n := containers(req)
		switch {
		case req.azs == 2 && req.smallestBits == 27 && n < twoSize:
			two, twoSize = seed, n
		case req.azs == 3 && req.smallestBits == 28 && n < threeSize:
			three, threeSize = seed, n
		}
	}
	return []runCase{{two, 27}, {two, 28}, {three, 28}}
}

// slowHostLimit replaces the exercise's time limit in tests that assert
// verdicts, not latency: on a busy 2-core host a container start can take
// seconds. Latency is measured by BenchmarkGrade.
const slowHostLimit = 5 * time.Minute

func slowHostEngine(sb *sandbox.Sandbox, ex *gradertest.Exercise) *grader.Engine {
	engine := grader.NewEngine(sb, nil, subnet.Kind{})
	engine.TimeLimit = slowHostLimit
	ex.Spec.TimeLimit = 0
	return engine
}

var gotAddress = regexp.MustCompile(`^(\d+) of (\d+) tasks got an address`)

// TestRunPhaseMatchesAnIndependentComputation plays out the deploy of a few
// seeds for the smallest plan (every task placed) and for a plan one size
// too small, where the number of tasks left without an address must be what the
// independent computation predicts: in each subnet, whatever its share of the
// peak plus the other ENIs exceeds its usable addresses.
func TestRunPhaseMatchesAnIndependentComputation(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	sb := sandboxtest.New(t)
	warm(t, sb)
	engine := slowHostEngine(sb, &ex)
	for _, rc := range pickCases(t, ex) {
		seed, bits := rc.seed, rc.bits
		v, _ := engine.Variant(ex.Spec, seed)
		req := independentRequirement(t, v.Params)
		t.Run(fmt.Sprintf("seed%d-%dAZs-%d", seed, req.azs, bits), func(t *testing.T) {
			body := answer(layout(req.vpc, req.azs, bits))
			res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Seed: seed, Body: body})
			d := res.Check(subnet.CheckDeploy)
			if d == nil {
				t.Fatalf("no deploy check: status %s reason %q", res.Status, res.Reason)
			}
			pending := 0
			for _, n := range req.perSubnet {
				pending += max(0, n+req.enis-usableByListing(bits))
			}
			m := gotAddress.FindStringSubmatch(d.Observed)
			if m == nil {
				t.Fatalf("observed %q", d.Observed)
			}
			placed, _ := strconv.Atoi(m[1])
			total, _ := strconv.Atoi(m[2])
			if total != req.peak || placed != req.peak-pending {
				t.Errorf("%v with /%d subnets: observed %q; independently: %d of %d tasks placed", v.Params, bits, d.Observed, req.peak-pending, req.peak)
			}
			wantStatus := grader.CheckPass
			if pending > 0 {
				wantStatus = grader.CheckFail
				if !strings.Contains(d.Message, "gets no address: no free IPv4 address in ") || !strings.Contains(d.Message, "no available IPv4 addresses") {
					t.Errorf("message does not quote the engine: %q", d.Message)
				}
			}
			if d.Status != wantStatus {
				t.Errorf("deploy %s, want %s: %s", d.Status, wantStatus, d.Message)
			}
			t.Logf("%v /%d: %s; run phase %d ms\n%s", v.Params, bits, d.Observed, res.Timings.RunMs, res.Log)
		})
	}
}

// Two students with the same CIDR blocks graded at once both pass: their run
// phases take turns. And when another network on the engine holds a block
// (here, for the whole grading), the subnet is played out in a stand-in
// block of the same size, with addresses shown in the student's block.
func TestSameBlocksAtOnce(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	sb := sandboxtest.New(t)
	warm(t, sb)
	engine := slowHostEngine(sb, &ex)
	seed := pickCases(t, ex)[2].seed
	v, _ := engine.Variant(ex.Spec, seed)
	req := independentRequirement(t, v.Params)
	plan := layout(req.vpc, req.azs, req.smallestBits)
	body := answer(plan)
	ctx := context.Background()

	// Something outside any subnet grading holds the first block.
	occupier := sb.Scope("occupier-" + t.Name())
	defer func() { _ = occupier.Close(ctx) }()
	if _, err := occupier.Network(ctx, sandbox.NetworkSpec{Subnet: plan[0]}); err != nil {
		t.Fatal(err)
	}
	first := netip.MustParsePrefix(plan[0])

	var wg sync.WaitGroup
	results := make([]*grader.Result, 2)
	recs := make([]*recorder, 2)
	for i := range results {
		recs[i] = &recorder{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = engine.Grade(ctx, grader.Request{Spec: ex.Spec, Seed: seed, Body: body, Events: recs[i].add})
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.Status != grader.StatusPass {
			t.Errorf("grading %d: %s %q, checks %+v", i, res.Status, res.Reason, res.Checks)
			continue
		}
		prog := recs[i].progress()
		if !contains(prog, plan[0]+" is held by another network on the container engine; it is played out in the stand-in block 10.255.") {
			t.Errorf("grading %d: no stand-in reported: %q", i, prog)
		}
		inFirst := 0
		for _, line := range prog {
			if _, ip, ok := strings.Cut(line, " → "); ok {
				a := netip.MustParseAddr(ip)
				if !slices.ContainsFunc(plan, func(p string) bool { return netip.MustParsePrefix(p).Contains(a) }) {
					t.Errorf("grading %d: %q is outside the student's subnets", i, line)
				}
				if first.Contains(a) {
					inFirst++
				}
			}
		}
		if inFirst != req.perSubnet[0]+req.enis {
			t.Errorf("grading %d: %d addresses shown in %s, want %d", i, inFirst, first, req.perSubnet[0]+req.enis)
		}
	}
}

// warm builds the lab image before anything is timed.
func warm(t testing.TB, sb *sandbox.Sandbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := sb.LabImage(ctx); err != nil {
		t.Fatal(err)
	}
}
