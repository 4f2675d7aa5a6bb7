package subnet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/subnet"
)

// requirement is computed here without the grader's formulas: the peak by
// counting up to the deploy cap, each subnet's share by dealing the tasks out
// one by one, and usable addresses by listing a block's addresses and
// striking out the five AWS keeps.
type requirement struct {
	vpc          netip.Prefix
	azs          int
	peak         int
	perSubnet    []int // tasks dealt to each subnet
	enis         int
	need         int
	smallestBits int
}

func independentRequirement(t testing.TB, params map[string]any) requirement {
	t.Helper()
	r := requirement{
		vpc:  netip.MustParsePrefix(params["vpcCidr"].(string)),
		azs:  params["azs"].(int),
		enis: params["extraEnisPerSubnet"].(int),
	}
	desired, maxPct := params["desiredCount"].(int), params["maximumPercent"].(int)
	for (r.peak+1)*100 <= desired*maxPct {
		r.peak++
	}
	r.perSubnet = make([]int, r.azs)
	for task := 0; task < r.peak; task++ {
		r.perSubnet[task%r.azs]++
	}
	most := 0
	for _, n := range r.perSubnet {
		most = max(most, n)
	}
	r.need = most + r.enis
	for bits := 28; bits >= 16; bits-- {
		if usableByListing(bits) >= r.need {
			r.smallestBits = bits
			break
		}
	}
	return r
}

// usableByListing counts the addresses of a block of the given size that AWS
// lets an ENI use.
func usableByListing(bits int) int {
	block := netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), bits)
	network := block.Addr()
	reserved := map[netip.Addr]bool{network: true, network.Next(): true, network.Next().Next(): true, network.Next().Next().Next(): true}
	n := 0
	for a := network; block.Contains(a); a = a.Next() {
		if !reserved[a] {
			n++
		}
	}
	return n - 1 // the last address, broadcast, is not usable either
}

// layout returns azs consecutive blocks of the given size from the VPC's
// start, or nil when they do not fit.
func layout(vpc netip.Prefix, azs, bits int) []string {
	var out []string
	a := vpc.Addr()
	for range azs {
		p := netip.PrefixFrom(a, bits)
		if !vpc.Contains(a) || bits < vpc.Bits() {
			return nil
		}
		out = append(out, p.String())
		for range 1 << (32 - bits) {
			a = a.Next()
		}
	}
	if !vpc.Contains(a.Prev()) {
		return nil
	}
	return out
}

func answer(subnets []string) []byte {
	b, _ := json.Marshal(map[string]any{"subnets": subnets})
	return b
}

func staticStatuses(res *grader.Result) map[string]grader.CheckStatus {
	out := map[string]grader.CheckStatus{}
	for _, c := range res.Checks {
		if c.Phase == grader.PhaseStatic {
			out[c.ID] = c.Status
		}
	}
	return out
}

// TestStaticVerdictsMatchAnIndependentComputation grades, for hundreds of
// seeds, the smallest plan, a plan one size too small and a plan one size
// too large, and checks each static verdict against independentRequirement.
// The engine has no container engine here, so only the static checks are
// judged (the run phase is covered by TestRunPhaseMatchesAnIndependentComputation).
func TestStaticVerdictsMatchAnIndependentComputation(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	engine := grader.NewEngine(nil, nil, subnet.Kind{})
	ctx := context.Background()
	seen := map[string]map[any]bool{}
	for seed := int64(0); seed < 500; seed++ {
		v, err := engine.Variant(ex.Spec, seed)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(v.Params) != 5 {
			t.Fatalf("seed %d: params %v, want exactly vpcCidr, desiredCount, azs, maximumPercent, extraEnisPerSubnet", seed, v.Params)
		}
		for k, val := range v.Params {
			if seen[k] == nil {
				seen[k] = map[any]bool{}
			}
			seen[k][val] = true
		}
		req := independentRequirement(t, v.Params)
		checkRanges(t, seed, v.Params, req)

		grade := func(subnets []string) map[string]grader.CheckStatus {
			res := engine.Grade(ctx, grader.Request{Spec: ex.Spec, Seed: seed, Body: answer(subnets)})
			if res.Variant == nil || res.Variant.Seed != seed {
				t.Fatalf("seed %d: result variant %+v", seed, res.Variant)
			}
			return staticStatuses(res)
		}
		best := layout(req.vpc, req.azs, req.smallestBits)
		if best == nil {
			t.Fatalf("seed %d: %d /%d subnets do not fit in %s", seed, req.azs, req.smallestBits, req.vpc)
		}
		for id, st := range grade(best) {
			if st != grader.CheckPass {
				t.Errorf("seed %d %v: smallest plan %v: %s is %s", seed, v.Params, best, id, st)
			}
		}
		if req.smallestBits < 28 {
			small := layout(req.vpc, req.azs, req.smallestBits+1)
			got := grade(small)
			if got[subnet.CheckCapacity] != grader.CheckFail || got[subnet.CheckCIDR] != grader.CheckPass || got[subnet.CheckInVPC] != grader.CheckPass {
				t.Errorf("seed %d %v: too-small plan %v: %v", seed, v.Params, small, got)
			}
		}
		if big := layout(req.vpc, req.azs, req.smallestBits-1); big != nil {
			got := grade(big)
			if got[subnet.CheckCapacity] != grader.CheckPass || got[subnet.CheckSmallest] != grader.CheckFail {
				t.Errorf("seed %d %v: wasteful plan %v: %v", seed, v.Params, big, got)
			}
		}
	}
	// Every value of every range turns up over 500 seeds.
	for k, want := range map[string]int{"desiredCount": 17, "azs": 2, "maximumPercent": 2, "extraEnisPerSubnet": 4} {
		if len(seen[k]) != want {
			t.Errorf("%s took %d distinct values over 500 seeds, want %d", k, len(seen[k]), want)
		}
	}
	if len(seen["vpcCidr"]) < 450 {
		t.Errorf("only %d distinct VPCs over 500 seeds", len(seen["vpcCidr"]))
	}
}

func checkRanges(t *testing.T, seed int64, p map[string]any, req requirement) {
	t.Helper()
	d, m, e := p["desiredCount"].(int), p["maximumPercent"].(int), p["extraEnisPerSubnet"].(int)
	if d < 4 || d > 20 || (req.azs != 2 && req.azs != 3) || (m != 150 && m != 200) || e < 0 || e > 3 {
		t.Errorf("seed %d: params out of range: %v", seed, p)
	}
	if !netip.MustParsePrefix("10.0.0.0/8").Contains(req.vpc.Addr()) || req.vpc.Masked() != req.vpc {
		t.Errorf("seed %d: vpcCidr %s is not an aligned block inside 10.0.0.0/8", seed, req.vpc)
	}
}

func TestVariantIsDeterministic(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	k := subnet.Kind{}
	for seed := int64(-3); seed < 50; seed++ {
		a, err := k.Variant(ex.Spec, seed)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := k.Variant(ex.Spec, seed)
		if fmt.Sprint(a.Params) != fmt.Sprint(b.Params) {
			t.Fatalf("seed %d: %v then %v", seed, a.Params, b.Params)
		}
	}
	// The reference answers are written for this variant.
	v, _ := k.Variant(ex.Spec, solutionSeed)
	want := map[string]any{"vpcCidr": "10.42.164.0/22", "desiredCount": 11, "azs": 2, "maximumPercent": 200, "extraEnisPerSubnet": 3}
	if fmt.Sprint(v.Params) != fmt.Sprint(want) {
		t.Errorf("seed %d: %v, want %v", solutionSeed, v.Params, want)
	}
}
