package subnet_test

import (
	"context"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/subnet"
)

// The static phase on its own: seed 0's scenario is VPC 10.42.164.0/22,
// 11 tasks, 2 AZs, maximumPercent 200 and 3 other ENIs per subnet, so each
// subnet needs 11 + 3 = 14 usable addresses: a /27.
func TestStaticChecks(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	engine := grader.NewEngine(nil, nil, subnet.Kind{})
	tests := []struct {
		name   string
		body   string
		check  string
		status grader.CheckStatus
		field  string
		msg    string // part of the check's message
	}{
		{"Smallest", `{"subnets": ["10.42.164.0/27", "10.42.164.32/27"]}`, subnet.CheckSmallest, grader.CheckPass, "/subnets", ""},
		{"CapacityExplained", `{"subnets": ["10.42.164.0/27", "10.42.164.32/28"]}`, subnet.CheckCapacity, grader.CheckFail, "/subnets/1",
			"a /28 has 11 usable addresses (16 minus the 5 AWS reserves); 10.42.164.32/28 must hold 11 tasks at the deploy peak plus 3 other ENIs = 14"},
		{"WastefulNamesTheSmallest", `{"subnets": ["10.42.164.0/26", "10.42.164.64/27"]}`, subnet.CheckSmallest, grader.CheckFail, "/subnets/0",
			"10.42.164.0/26 has 59 usable addresses for a need of 14; a /27 (27 usable) is the smallest subnet that fits"},
		{"Misaligned", `{"subnets": ["10.42.164.0/27", "10.42.164.40/27"]}`, subnet.CheckCIDR, grader.CheckFail, "/subnets/1",
			"nearest blocks are 10.42.164.32/27 or 10.42.164.64/27"},
		{"NoPrefix", `{"subnets": ["10.42.164.0", "10.42.164.32/27"]}`, subnet.CheckCIDR, grader.CheckFail, "/subnets/0", "has no prefix length"},
		{"IPv6", `{"subnets": ["fd00::/64", "10.42.164.32/27"]}`, subnet.CheckCIDR, grader.CheckFail, "/subnets/0", "not IPv4"},
		{"ShellCommand", `{"subnets": ["10.42.164.0/27; rm -rf /", "10.42.164.32/27"]}`, subnet.CheckCIDR, grader.CheckFail, "/subnets/0", "is not a CIDR block"},
		{"HugeNumbers", `{"subnets": ["10.42.164.0/99999999999999999999", "300.1.1.1/27"]}`, subnet.CheckCIDR, grader.CheckFail, "/subnets/0", "is not a CIDR block"},
		{"Empty", `{"subnets": ["", "10.42.164.32/27"]}`, subnet.CheckCIDR, grader.CheckFail, "/subnets/0", "the entry is empty"},
		{"TooLarge", `{"subnets": ["10.0.0.0/15", "10.42.164.32/27"]}`, subnet.CheckPrefix, grader.CheckFail, "/subnets/0", "largest subnet is a /16"},
		{"Duplicate", `{"subnets": ["10.42.164.0/27", "10.42.164.0/27"]}`, subnet.CheckOverlap, grader.CheckFail, "/subnets/1", "is the same block as"},
		{"PartlyOutside", `{"subnets": ["10.42.164.0/27", "10.42.160.0/21"]}`, subnet.CheckInVPC, grader.CheckFail, "/subnets/1", "is not inside the VPC 10.42.164.0/22"},
		{"ThreeForTwoAZs", `{"subnets": ["10.42.164.0/27", "10.42.164.32/27", "10.42.164.64/27"]}`, subnet.CheckCount, grader.CheckFail, "/subnets",
			"2 Availability Zones, so it needs 2 subnets"},
		{"NoSubnets", `{"subnets": []}`, subnet.CheckCapacity, grader.CheckSkip, "/subnets", "no subnet was given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Seed: solutionSeed, Body: []byte(tt.body)})
			c := res.Check(tt.check)
			if c == nil {
				t.Fatalf("no check %s in %+v (reason %q)", tt.check, res.Checks, res.Reason)
			}
			if c.Status != tt.status || c.Field != tt.field || !strings.Contains(c.Message, tt.msg) {
				t.Errorf("%s: got %s field %q message %q; want %s field %q message containing %q", tt.check, c.Status, c.Field, c.Message, tt.status, tt.field, tt.msg)
			}
		})
	}
}

// Answers that platform would reject skip the deploy; answers it accepts,
// even too small ones, go on to the run phase.
func TestRunPhaseOnlyForCreatableSubnets(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	engine := grader.NewEngine(nil, nil, subnet.Kind{})
	for body, wantRun := range map[string]bool{
		`{"subnets": ["10.42.164.0/28", "10.42.164.16/28"]}`: true,
		`{"subnets": ["10.42.164.0/24", "10.42.165.0/24"]}`:  true,
		`{"subnets": ["10.42.164.0/27", "10.42.164.0/27"]}`:  false,
		`{"subnets": ["10.42.164.0/27"]}`:                    false,
		`{"subnets": ["10.0.1.0/27", "10.0.1.32/27"]}`:       false,
	} {
		res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Seed: solutionSeed, Body: []byte(body)})
		d := res.Check(subnet.CheckDeploy)
		if wantRun {
			// No container engine here: the run phase is attempted and
			// cannot observe; the static checks, which fail these plans,
			// decide the verdict.
			if d == nil || d.Status != grader.CheckSkip || !strings.Contains(d.Message, "container engine") || res.Status != grader.StatusFail {
				t.Errorf("%s: want the run phase attempted and the static verdict kept; got %s %q, deploy %+v", body, res.Status, res.Reason, d)
			}
			continue
		}
		if d == nil || d.Status != grader.CheckSkip || res.Status != grader.StatusFail {
			t.Errorf("%s: want the deploy skipped and the grading failed; got %s, deploy %+v", body, res.Status, d)
		}
	}
}

func TestUnreadableSubmissions(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	engine := grader.NewEngine(nil, nil, subnet.Kind{})
	tests := []struct{ name, body, reason string }{
		{"Malformed", "{\n  \"subnets\": [\"10.42.164.0/27\",\n}", "line 3, column 1"},
		{"NotAList", `{"subnets": "10.42.164.0/27"}`, "must be a list"},
		{"NumberInList", `{"subnets": [10, 20]}`, `line 1, column 16: each subnet must be a string such as "10.0.0.0/28", not a JSON number`},
		{"UnknownField", `{"subnets": ["10.42.164.0/27"], "vpc": "10.0.0.0/16"}`, `unknown field "vpc"`},
		{"MissingList", `{}`, `needs a "subnets" list`},
		{"Empty", ``, "the answer is empty"},
		{"TrailingText", `{"subnets": []} rm -rf /`, "unexpected text after the JSON object"},
		{"TopLevelList", `["10.42.164.0/27"]`, "must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Seed: solutionSeed, Body: []byte(tt.body)})
			if res.Status != grader.StatusError || res.Gradable || !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("got %s gradable %v reason %q; want error with %q", res.Status, res.Gradable, res.Reason, tt.reason)
			}
		})
	}
}

func TestBadParams(t *testing.T) {
	for name, params := range map[string]map[string]any{
		"DockerRange":     {"vpcCidr": map[string]any{"within": "172.16.0.0/12"}},
		"TooManyTasks":    {"desiredCount": map[string]any{"min": 4, "max": 500}},
		"TooManyENIs":     {"extraEnisPerSubnet": map[string]any{"min": 0, "max": 50}},
		"PercentTooHigh":  {"maximumPercent": []any{400}},
		"NotAnAlignedNet": {"vpcCidr": map[string]any{"within": "10.1.2.3/16"}},
		"WrongType":       {"azs": "three"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := (subnet.Kind{}).Variant(grader.Spec{Params: params}, 1); err == nil {
				t.Errorf("params %v accepted", params)
			}
		})
	}
}
