package subnet

import (
	"strconv"

	"coldstart/grader"
)

// Schema implements grader.Schemer: the params block each student's variant
// is drawn from. The kind has no scenario: everything comes from params.
func (Kind) Schema() grader.Schema {
	integer := grader.Integer
	rng := func(name, doc string, lo, hi float64) grader.Field {
		return grader.Object(name, doc, integer("min", "the least value", lo, hi).Need(), integer("max", "the largest value", lo, hi).Need())
	}
	return grader.Schema{
		Params: []grader.Field{
			grader.Object("vpcCidr", "where the student's VPC is drawn",
				grader.Text("within", "an aligned IPv4 block inside 10.0.0.0/8 (the container engine uses the other private ranges)"),
				grader.List("prefix", "the VPC prefix lengths to draw from", integer("", "", MinPrefix, 24))),
			rng("desiredCount", "the service's desired count", 1, float64(maxDesiredCount)),
			grader.List("azs", "the numbers of Availability Zones to draw from", integer("", "", 1, float64(maxAZs))),
			grader.List("maximumPercent", "the deployment's maximumPercent values to draw from", integer("", "", 100, 200)),
			rng("extraEnisPerSubnet", "other ENIs in each subnet, one address each: interface endpoints, NAT gateways (a load balancer needs 8 free addresses per subnet, so give it subnets of its own rather than count it here)", 0, float64(maxENIs)),
		},
		Answer: "a JSON object `{\"subnets\": [\"10.x.y.z/nn\", …]}`, one CIDR block per Availability Zone",
		Lab: "Every task of the rolling deploy is a `pause` container on a network of its subnet, so a subnet too small really runs out of addresses. " +
			"To keep a grading small, a variant has at most 20 desired tasks, 3 Availability Zones and 3 other ENIs per subnet, and its VPC lies inside 10.0.0.0/8 " +
			"(the container engine and this machine use the other private ranges).",
		Checks: []string{CheckCount, CheckCIDR, CheckPrefix, CheckInVPC, CheckOverlap, CheckCapacity, CheckSmallest, CheckDeploy},
		Labs:   []string{"pause"},
	}
}

// CheckSpec implements grader.SpecChecker: the ranges must be usable, and
// every variant a student may draw must fit its VPC. Seeds are drawn per
// student, so a sample of them is tried.
func (Kind) CheckSpec(spec grader.Spec) []grader.SpecProblem {
	for seed := range int64(200) {
		if _, err := NewScenario(spec, seed); err != nil {
			return []grader.SpecProblem{{Path: []string{"params"}, Message: "params cannot make every student's variant: seed " + strconv.FormatInt(seed, 10) + ": " + err.Error()}}
		}
	}
	return nil
}
