package cloudrun

import (
	"strings"
	"testing"

	"coldstart/grader"
)

// canaryService is a service whose template creates orders-api-00042-new,
// with the traffic block given after it.
func canaryService(template, traffic string) string {
	meta := ""
	if template != "" {
		meta = "    metadata:\n      name: " + template + "\n"
	}
	return `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: orders-api
spec:
  template:
` + meta + `    spec:
      containers:
        - image: europe-docker.pkg.dev/acme-shop/apps/orders-api:8d41a07
` + traffic
}

var testCanary = &CanaryScenario{Service: "orders-api", Revisions: []string{"orders-api-00040-kav", "orders-api-00041-tuz"},
	Current: "orders-api-00041-tuz", Share: 10, Tag: "canary", Requests: 1000, TagRequests: 50}

// The traffic rules of Cloud Run's v1 API (TrafficTarget, and Knative's
// route and revision validation it follows), one case each, judged in
// general: the names and numbers are not the exercise's answers.
func TestTrafficRules(t *testing.T) {
	const tmpl = "orders-api-00042-new"
	tests := []struct {
		name     string
		template string
		traffic  string
		fails    string // "" when every check passes
		field    string
		message  string
	}{
		{name: "NoTrafficBlockFollowsTheLatest", template: tmpl},
		{name: "EmptyTrafficListFollowsTheLatest", template: tmpl, traffic: "  traffic: []\n"},
		{name: "PinnedSplit", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00041-tuz, percent: 70}
    - {revisionName: orders-api-00042-new, percent: 30, tag: candidate}
`},
		{name: "LatestRevisionWithoutATemplateName", traffic: `  traffic:
    - {revisionName: orders-api-00041-tuz, percent: 95}
    - {latestRevision: true, percent: 5, tag: blue}
`},
		{name: "EntryWithNeitherFieldFollowsTheLatest", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00040-kav, percent: 50}
    - {percent: 50}
`},
		{name: "ZeroPercentTaggedRevision", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00041-tuz, percent: 100}
    - {revisionName: orders-api-00042-new, percent: 0, tag: try-me}
`},
		{name: "OneRevisionUnderTwoTags", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00041-tuz, percent: 100, tag: stable}
    - {revisionName: orders-api-00041-tuz, percent: 0, tag: current}
    - {latestRevision: true, percent: 0, tag: next}
`},
		{name: "SumBelow100", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00041-tuz, percent: 60}
    - {latestRevision: true, percent: 30}
`, fails: "cloudrun.traffic", field: "spec.traffic", message: "sum to 90; they must sum to 100"},
		{name: "SumAbove100", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00040-kav, percent: 100}
    - {latestRevision: true, percent: 1}
`, fails: "cloudrun.traffic", field: "spec.traffic", message: "sum to 101"},
		{name: "PercentOver100", template: tmpl, traffic: `  traffic:
    - {latestRevision: true, percent: 120}
`, fails: "cloudrun.traffic", field: "spec.traffic[0].percent", message: "whole percent from 0 to 100"},
		{name: "NegativePercent", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00041-tuz, percent: 101}
    - {latestRevision: true, percent: -1}
`, fails: "cloudrun.traffic", field: "spec.traffic[0].percent", message: "is -1"},
		{name: "FractionalPercent", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00041-tuz, percent: 87.5}
    - {latestRevision: true, percent: 12.5}
`, fails: "cloudrun.traffic", field: "spec.traffic[0].percent", message: "must be a whole number"},
		{name: "PercentAsQuotedNumber", template: tmpl, traffic: `  traffic:
    - {latestRevision: true, percent: "100"}
`, fails: "cloudrun.traffic", field: "spec.traffic[0].percent", message: "leave out the quotes"},
		{name: "RevisionNameAndLatestRevision", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00042-new, latestRevision: true, percent: 100}
`, fails: "cloudrun.traffic", field: "spec.traffic[0].latestRevision", message: "mutually exclusive"},
		{name: "LatestRevisionFalseWithoutAName", template: tmpl, traffic: `  traffic:
    - {latestRevision: false, percent: 100}
`, fails: "cloudrun.traffic", field: "spec.traffic[0].latestRevision", message: "must name the revision it pins"},
		{name: "LatestRevisionFalseWithAName", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00040-kav, latestRevision: false, percent: 100}
`},
		{name: "LatestRevisionNotABoolean", template: tmpl, traffic: `  traffic:
    - {latestRevision: "yes", percent: 100}
`, fails: "cloudrun.traffic", field: "spec.traffic[0].latestRevision", message: "true or false"},
		{name: "ConfigurationName", template: tmpl, traffic: `  traffic:
    - {configurationName: orders-api, percent: 100}
`, fails: "cloudrun.traffic", field: "spec.traffic[0].configurationName", message: "not supported by Cloud Run"},
		{name: "URLInSpec", template: tmpl, traffic: `  traffic:
    - {latestRevision: true, percent: 100, tag: a, url: "https://a---orders-api.run.app"}
`, fails: "cloudrun.traffic", field: "spec.traffic[0].url", message: "output only"},
		{name: "TrafficNotAList", template: tmpl, traffic: "  traffic:\n    latestRevision: true\n",
			fails: "cloudrun.traffic", field: "spec.traffic", message: "must be a list"},
		{name: "UnknownFieldInAnEntry", template: tmpl, traffic: `  traffic:
    - {latestRevision: true, percent: 100, tags: x}
`, fails: "cloudrun.schema", field: "spec.traffic[0].tags", message: "did you mean tag"},
		{name: "RevisionThatDoesNotExist", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00039-zzz, percent: 100}
`, fails: "cloudrun.revisions", field: "spec.traffic[0].revisionName", message: "is not a revision of orders-api"},
		{name: "RevisionNamedWithoutATemplateName", traffic: `  traffic:
    - {revisionName: orders-api-00042-xxx, percent: 100}
`, fails: "cloudrun.revisions", field: "spec.traffic[0].revisionName", message: "which has no name of its own"},
		{name: "RevisionNameNotADNSLabel", template: tmpl, traffic: `  traffic:
    - {revisionName: Orders-API-00041, percent: 100}
`, fails: "cloudrun.revisions", field: "spec.traffic[0].revisionName", message: "lowercase letters"},
		{name: "TemplateNameOfAnExistingRevision", template: "orders-api-00040-kav", traffic: `  traffic:
    - {revisionName: orders-api-00041-tuz, percent: 100}
`, fails: "cloudrun.revisions", field: "spec.template.metadata.name", message: "revisions are immutable"},
		{name: "TemplateNameWithoutTheServicePrefix", template: "ordersapi-2", fails: "cloudrun.revisions",
			field: "spec.template.metadata.name", message: `must have the prefix "orders-api-"`},
		{name: "TemplateNameNotADNSLabel", template: "orders-api-2.0", fails: "cloudrun.revisions",
			field: "spec.template.metadata.name", message: "not a valid revision name"},
		{name: "TagWithCapitals", template: tmpl, traffic: `  traffic:
    - {latestRevision: true, percent: 100, tag: Canary}
`, fails: "cloudrun.tags", field: "spec.traffic[0].tag", message: "not a DNS label"},
		{name: "TagStartingWithADigit", template: tmpl, traffic: `  traffic:
    - {latestRevision: true, percent: 100, tag: 2nd}
`, fails: "cloudrun.tags", field: "spec.traffic[0].tag", message: "starts with a letter"},
		{name: "TagEndingWithADash", template: tmpl, traffic: `  traffic:
    - {latestRevision: true, percent: 100, tag: canary-}
`, fails: "cloudrun.tags", field: "spec.traffic[0].tag", message: "ends with a letter or digit"},
		{name: "TagTooLong", template: tmpl, traffic: "  traffic:\n    - {latestRevision: true, percent: 100, tag: " + strings.Repeat("a", 64) + "}\n",
			fails: "cloudrun.tags", field: "spec.traffic[0].tag", message: "at most 63"},
		{name: "TagTwice", template: tmpl, traffic: `  traffic:
    - {revisionName: orders-api-00041-tuz, percent: 50, tag: blue}
    - {latestRevision: true, percent: 50, tag: blue}
`, fails: "cloudrun.tags", field: "spec.traffic[1].tag", message: `the tag "blue" is given to both spec.traffic[0] and spec.traffic[1]`},
		{name: "TagNotAString", template: tmpl, traffic: `  traffic:
    - {latestRevision: true, percent: 100, tag: [a]}
`, fails: "cloudrun.tags", field: "spec.traffic[0].tag", message: "must be a string"},
	}
	canaryIDs := map[string]bool{}
	for _, c := range canaryChecks {
		canaryIDs[c.ID] = true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := ParseService([]byte(canaryService(tt.template, tt.traffic)))
			if err != nil {
				t.Fatalf("ParseService: %v", err)
			}
			checks := judgeWith(svc, testCanary)
			seen := 0
			for _, c := range checks {
				if canaryIDs[c.ID] {
					seen++
				}
				switch {
				case c.ID == tt.fails && c.Status != grader.CheckFail:
					t.Errorf("%s: %s (%s), want fail", c.ID, c.Status, c.Message)
				case c.ID == tt.fails && !strings.Contains(c.Message, tt.message):
					t.Errorf("%s: message %q lacks %q", c.ID, c.Message, tt.message)
				case c.ID == tt.fails && c.Field != tt.field:
					t.Errorf("%s: field %q, want %q", c.ID, c.Field, tt.field)
				case c.ID != tt.fails && c.Status != grader.CheckPass:
					t.Errorf("%s: %s (%s), want pass", c.ID, c.Status, c.Message)
				}
			}
			if seen != len(canaryChecks) {
				t.Errorf("%d canary checks reported, want %d", seen, len(canaryChecks))
			}
		})
	}
}

// Without a canary the traffic block is read for its form only: the
// morning's checks are the ones they always were.
func TestTrafficWithoutACanaryIsFormOnly(t *testing.T) {
	svc, err := ParseService([]byte(canaryService("", "  traffic:\n    - {latestRevision: true, percent: 120}\n")))
	if err != nil {
		t.Fatal(err)
	}
	checks := judge(svc)
	if len(checks) != len(staticChecks) {
		t.Fatalf("%d checks, want the %d of the morning", len(checks), len(staticChecks))
	}
	for _, c := range checks {
		if c.ID == "cloudrun.schema" {
			if c.Status != grader.CheckFail || !strings.Contains(c.Message, "0 to 100") {
				t.Errorf("cloudrun.schema: %s %q, want the percent refused", c.Status, c.Message)
			}
		} else if c.Status != grader.CheckPass {
			t.Errorf("%s: %s (%s)", c.ID, c.Status, c.Message)
		}
	}
}

func TestResolveSplit(t *testing.T) {
	tests := []struct {
		name, template, traffic string
		want                    map[string]int64
		tags                    map[string]string
	}{
		{"Default", "orders-api-00042-new", "", map[string]int64{"orders-api-00042-new": 100}, map[string]string{}},
		{"GeneratedName", "", "  traffic:\n    - {revisionName: orders-api-00041-tuz, percent: 80}\n    - {latestRevision: true, percent: 20, tag: x}\n",
			map[string]int64{"orders-api-00041-tuz": 80, "orders-api-00042-xxx": 20}, map[string]string{"x": "orders-api-00042-xxx"}},
		{"EntriesOfOneRevisionAddUp", "orders-api-00042-b7c", "  traffic:\n    - {revisionName: orders-api-00041-tuz, percent: 60, tag: a}\n    - {revisionName: orders-api-00041-tuz, percent: 30, tag: b}\n    - {latestRevision: true, percent: 10}\n",
			map[string]int64{"orders-api-00041-tuz": 90, "orders-api-00042-b7c": 10}, map[string]string{"a": "orders-api-00041-tuz", "b": "orders-api-00041-tuz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := ParseService([]byte(canaryService(tt.template, tt.traffic)))
			if err != nil {
				t.Fatal(err)
			}
			s := resolveSplit(svc, testCanary)
			if len(s.Percent) != len(tt.want) {
				t.Errorf("split %v, want %v", s.Percent, tt.want)
			}
			for rev, p := range tt.want {
				if s.Percent[rev] != p {
					t.Errorf("%s: %d%%, want %d%%", rev, s.Percent[rev], p)
				}
			}
			if len(s.Tags) != len(tt.tags) {
				t.Errorf("tags %v, want %v", s.Tags, tt.tags)
			}
			for tag, rev := range tt.tags {
				if s.Tags[tag] != rev {
					t.Errorf("tag %s reaches %q, want %q", tag, s.Tags[tag], rev)
				}
			}
		})
	}
}

func TestBinomialTolerance(t *testing.T) {
	// 1000 requests at 10%: sd = sqrt(1000 × 0.1 × 0.9) ≈ 9.49, four of them ≈ 37.9.
	if got := binomialTolerance(1000, 0.1); got != 38 {
		t.Errorf("tolerance %d, want 38", got)
	}
	if lo, hi := band(1000, 10); lo != 62 || hi != 138 {
		t.Errorf("band %d–%d, want 62–138", lo, hi)
	}
	if lo, hi := band(1000, 90); lo != 862 || hi != 938 {
		t.Errorf("band %d–%d, want 862–938", lo, hi)
	}
}

func TestCanaryScenarioRefusesWhatCannotBeMeasured(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(c *CanaryScenario)
		message string
	}{
		{"CurrentNotARevision", func(c *CanaryScenario) { c.Current = "orders-api-00039-x" }, "is not one of canary.revisions"},
		{"RevisionOfAnotherService", func(c *CanaryScenario) { c.Revisions = append(c.Revisions, "billing-00001-aaa") }, `does not start with "orders-api-"`},
		{"ShareOf100", func(c *CanaryScenario) { c.Share = 100 }, "is not 1–99"},
		{"TagNotADNSLabel", func(c *CanaryScenario) { c.Tag = "Canary" }, "not a tag Cloud Run accepts"},
		{"TooFewRequestsForTheShare", func(c *CanaryScenario) { c.Share, c.Requests = 1, 200 }, "too few to measure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *testCanary
			c.Revisions = append([]string(nil), testCanary.Revisions...)
			tt.edit(&c)
			err := c.normalise()
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("normalise: %v, want %q", err, tt.message)
			}
		})
	}
	c := *testCanary
	if err := c.normalise(); err != nil {
		t.Errorf("the test scenario: %v", err)
	}
}

// The revisions belong to one service: a submission that renames it would
// create a new service that has none of them.
func TestCanaryKeepsTheServiceName(t *testing.T) {
	body := strings.Replace(canaryService("other-api-00001-aaa", ""), "  name: orders-api\n", "  name: other-api\n", 1)
	svc, err := ParseService([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range judgeWith(svc, testCanary) {
		if c.ID == "cloudrun.service" && (c.Status != grader.CheckFail || !strings.Contains(c.Message, "belong to the service orders-api")) {
			t.Errorf("cloudrun.service: %s %q", c.Status, c.Message)
		}
	}
}

// A canary is a scenario of its own: the morning's blocks beside it are an
// author's mistake, reported when the course loads.
func TestCanaryScenarioStandsAlone(t *testing.T) {
	canary := map[string]any{"service": "orders-api", "revisions": []any{"orders-api-00001-abc"}, "current": "orders-api-00001-abc", "share": 20, "tag": "next"}
	spec := grader.Spec{Kind: "cloudrun", Scenario: map[string]any{"canary": canary}}
	if probs := (Kind{}).CheckSpec(spec); len(probs) != 0 {
		t.Errorf("a canary alone: %v", probs)
	}
	spec.Scenario["slo"] = map[string]any{"p99Ms": 300}
	if probs := (Kind{}).CheckSpec(spec); len(probs) != 1 || !strings.Contains(probs[0].Message, "canary is a scenario of its own") {
		t.Errorf("a canary with an slo: %v", probs)
	}
	if probs := (Kind{}).CheckSpec(grader.Spec{Kind: "cloudrun", Scenario: map[string]any{}}); len(probs) != 1 || !strings.Contains(probs[0].Message, "traffic has no phases") {
		t.Errorf("neither a morning nor a canary: %v", probs)
	}
}
