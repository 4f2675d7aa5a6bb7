package subnet

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"coldstart/grader"
)

// Scenario is one student's version of the exercise: the service and the VPC
// the subnets are planned for. Its fields are exposed in the Result's
// variant.params under their JSON names.
type Scenario struct {
	VPC                netip.Prefix
	DesiredCount       int
	AZs                int
	MaximumPercent     int
	ExtraENIsPerSubnet int
}

// Params returns the scenario as the variant's params, under the names the
// exercise's prompt uses.
func (s Scenario) Params() map[string]any {
	return map[string]any{
		"vpcCidr":            s.VPC.String(),
		"desiredCount":       s.DesiredCount,
		"azs":                s.AZs,
		"maximumPercent":     s.MaximumPercent,
		"extraEnisPerSubnet": s.ExtraENIsPerSubnet,
	}
}

// Peak is the number of tasks RUNNING or PENDING at the height of a rolling
// deploy: floor(desiredCount × maximumPercent / 100).
func (s Scenario) Peak() int { return s.DesiredCount * s.MaximumPercent / 100 }

// TasksPerSubnet is the largest share of the peak one subnet must hold when
// the tasks are spread across the AZs: ceil(peak / azs).
func (s Scenario) TasksPerSubnet() int { return (s.Peak() + s.AZs - 1) / s.AZs }

// Need is the number of usable addresses each subnet must have.
func (s Scenario) Need() int { return s.TasksPerSubnet() + s.ExtraENIsPerSubnet }

// Usable is the number of addresses AWS leaves for ENIs in a subnet with the
// given prefix length: all but the network address, the VPC router (.1), DNS
// (.2), one reserved for future use (.3) and the broadcast address.
func Usable(bits int) int {
	if bits < 0 || bits > 32 {
		return 0
	}
	n := (1 << (32 - bits)) - 5
	if n < 0 {
		return 0
	}
	return n
}

// SmallestPrefix is the longest prefix (the smallest subnet AWS allows) whose
// usable addresses cover need, or 0 when not even a /16 does.
func SmallestPrefix(need int) int {
	for bits := MaxPrefix; bits >= MinPrefix; bits-- {
		if Usable(bits) >= need {
			return bits
		}
	}
	return 0
}

// The subnet sizes AWS accepts.
const (
	MinPrefix = 16
	MaxPrefix = 28
)

// ranges are the exercise's params block: where a variant's values come from.
// Every field has a default, so an exercise may leave params out.
type ranges struct {
	VPC struct {
		// Within is the block every variant's VPC is carved from. It must lie
		// inside 10.0.0.0/8: the container engine and this machine use
		// 172.16.0.0/12 and 192.168.0.0/16.
		Within string `yaml:"within"`
		Prefix []int  `yaml:"prefix"`
	} `yaml:"vpcCidr"`
	DesiredCount       intRange `yaml:"desiredCount"`
	AZs                []int    `yaml:"azs"`
	MaximumPercent     []int    `yaml:"maximumPercent"`
	ExtraENIsPerSubnet intRange `yaml:"extraEnisPerSubnet"`
}

type intRange struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

// Hard bounds on what an exercise may ask: they keep the number of
// containers a grading starts small (at most 40 tasks and 9 extra ENIs).
var (
	safeBlock       = netip.MustParsePrefix("10.0.0.0/8")
	maxDesiredCount = 20
	maxAZs          = 3
	maxENIs         = 3
)

func defaultRanges() ranges {
	var r ranges
	r.VPC.Within = "10.0.0.0/8"
	r.VPC.Prefix = []int{22, 23, 24}
	r.DesiredCount = intRange{4, 20}
	r.AZs = []int{2, 3}
	r.MaximumPercent = []int{150, 200}
	r.ExtraENIsPerSubnet = intRange{0, 3}
	return r
}

func (r ranges) validate() (netip.Prefix, error) {
	within, err := netip.ParsePrefix(r.VPC.Within)
	if err != nil || !within.Addr().Is4() || within.Masked() != within {
		return within, fmt.Errorf("params.vpcCidr.within %q is not an aligned IPv4 CIDR block", r.VPC.Within)
	}
	if within.Bits() < safeBlock.Bits() || !safeBlock.Contains(within.Addr()) {
		return within, fmt.Errorf("params.vpcCidr.within %s must lie inside %s (the container engine uses the other private ranges)", within, safeBlock)
	}
	if len(r.VPC.Prefix) == 0 {
		return within, fmt.Errorf("params.vpcCidr.prefix lists no prefix length")
	}
	for _, p := range r.VPC.Prefix {
		if p < within.Bits() || p < MinPrefix || p > 24 {
			return within, fmt.Errorf("params.vpcCidr.prefix %d must be between /%d and /24 and inside %s", p, max(MinPrefix, within.Bits()), within)
		}
	}
	if r.DesiredCount.Min < 1 || r.DesiredCount.Max > maxDesiredCount || r.DesiredCount.Min > r.DesiredCount.Max {
		return within, fmt.Errorf("params.desiredCount must be a range inside 1–%d, got %d–%d", maxDesiredCount, r.DesiredCount.Min, r.DesiredCount.Max)
	}
	if len(r.AZs) == 0 {
		return within, fmt.Errorf("params.azs lists no value")
	}
	for _, n := range r.AZs {
		if n < 1 || n > maxAZs {
			return within, fmt.Errorf("params.azs %d must be between 1 and %d", n, maxAZs)
		}
	}
	if len(r.MaximumPercent) == 0 {
		return within, fmt.Errorf("params.maximumPercent lists no value")
	}
	for _, p := range r.MaximumPercent {
		if p < 100 || p > 200 {
			return within, fmt.Errorf("params.maximumPercent %d must be between 100 and 200", p)
		}
	}
	if r.ExtraENIsPerSubnet.Min < 0 || r.ExtraENIsPerSubnet.Max > maxENIs || r.ExtraENIsPerSubnet.Min > r.ExtraENIsPerSubnet.Max {
		return within, fmt.Errorf("params.extraEnisPerSubnet must be a range inside 0–%d, got %d–%d", maxENIs, r.ExtraENIsPerSubnet.Min, r.ExtraENIsPerSubnet.Max)
	}
	return within, nil
}

// NewScenario draws the scenario of a seed from the exercise's params. The
// same spec and seed always give the same scenario, on every machine and Go
// release: each value comes from a hash of the seed and the param's name.
func NewScenario(spec grader.Spec, seed int64) (Scenario, error) {
	r := defaultRanges()
	if err := spec.DecodeParams(&r); err != nil {
		return Scenario{}, fmt.Errorf("params: %w", err)
	}
	within, err := r.validate()
	if err != nil {
		return Scenario{}, err
	}
	s := Scenario{
		DesiredCount:       r.DesiredCount.Min + draw(seed, "desiredCount", r.DesiredCount.Max-r.DesiredCount.Min+1),
		AZs:                r.AZs[draw(seed, "azs", len(r.AZs))],
		MaximumPercent:     r.MaximumPercent[draw(seed, "maximumPercent", len(r.MaximumPercent))],
		ExtraENIsPerSubnet: r.ExtraENIsPerSubnet.Min + draw(seed, "extraEnisPerSubnet", r.ExtraENIsPerSubnet.Max-r.ExtraENIsPerSubnet.Min+1),
	}
	bits := r.VPC.Prefix[draw(seed, "vpcCidr.prefix", len(r.VPC.Prefix))]
	// Pick one of the VPC-sized blocks of within, avoiding the first (x.0.0.0
	// is where examples and defaults cluster).
	blocks := 1 << (bits - within.Bits())
	idx := 0
	if blocks > 1 {
		idx = 1 + draw(seed, "vpcCidr.block", blocks-1)
	}
	base := binary.BigEndian.Uint32(within.Addr().AsSlice()) + uint32(idx)<<(32-bits)
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], base)
	s.VPC = netip.PrefixFrom(netip.AddrFrom4(a), bits)

	need := s.Need()
	smallest := SmallestPrefix(need)
	if smallest == 0 || s.AZs<<(32-smallest) > 1<<(32-bits) {
		return Scenario{}, fmt.Errorf("a /%d VPC cannot hold %d subnets of %d usable addresses each", bits, s.AZs, need)
	}
	return s, nil
}

// drawSalt is mixed into every draw. Its value was picked so that seed 0,
// the seed the exercise's reference and known-wrong answers are written for,
// is a variant in which each classic mistake (forgetting the deploy peak, the
// other ENIs or the five reserved addresses) gives a subnet that is too small.
const drawSalt = "subnet-sizing/v31"

// draw returns a number in [0, n) derived from the seed and a name.
func draw(seed int64, name string, n int) int {
	if n <= 1 {
		return 0
	}
	h := sha256.Sum256([]byte(drawSalt + "/" + strconv.FormatInt(seed, 10) + "/" + name))
	return int(binary.BigEndian.Uint64(h[:8]) % uint64(n))
}
