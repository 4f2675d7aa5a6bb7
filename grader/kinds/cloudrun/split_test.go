package cloudrun

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"coldstart/grader"
)

type countingBackend struct {
	srv    *httptest.Server
	served atomic.Int64
}

func (b *countingBackend) Addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }

// newCountingBackends starts one loopback server per revision that counts
// the requests it serves.
func newCountingBackends(t *testing.T, revs ...string) (map[string]RevisionBackend, map[string]*countingBackend) {
	t.Helper()
	backends, counters := map[string]RevisionBackend{}, map[string]*countingBackend{}
	for _, rev := range revs {
		b := &countingBackend{}
		b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b.served.Add(1)
			fmt.Fprintln(w, "ok")
		}))
		t.Cleanup(b.srv.Close)
		backends[rev], counters[rev] = b, b
	}
	return backends, counters
}

// The router's split is a weighted random choice by the percents: over many
// requests each revision's count lies within the binomial tolerance of its
// percent, and a tag's address reaches its revision alone.
func TestSplitRouterFollowsThePercents(t *testing.T) {
	split := Split{New: "svc-00003-new", Order: []string{"svc-00001-old", "svc-00002-mid", "svc-00003-new"},
		Percent: map[string]int64{"svc-00001-old": 55, "svc-00002-mid": 15, "svc-00003-new": 30},
		Tags:    map[string]string{"next": "svc-00003-new", "prev": "svc-00001-old"}}
	backends, counters := newCountingBackends(t, split.Order...)
	var d net.Dialer
	router := NewSplitRouter("svc", split, backends, d.DialContext, 42)
	defer router.Close()
	srv := httptest.NewServer(router)
	defer srv.Close()
	client := srv.Client()

	const n = 4000
	ok, statuses, first := sendAll(context.Background(), client, srv.URL+"/", serviceHost("svc"), n, 8)
	if ok != n {
		t.Fatalf("%d of %d answered (%v, first %s)", ok, n, statuses, first)
	}
	for _, rev := range split.Order {
		got := int(counters[rev].served.Load())
		lo, hi := band(n, int(split.Percent[rev]))
		if got < lo || got > hi {
			t.Errorf("%s served %d of %d, want %d–%d for %d%%", rev, got, n, lo, hi, split.Percent[rev])
		}
		if routed := router.Routed()[rev]; routed != got {
			t.Errorf("%s: the router counted %d, the backend %d", rev, routed, got)
		}
	}

	before := counters["svc-00003-new"].served.Load()
	if ok, _, first := sendAll(context.Background(), client, srv.URL+"/", tagHost("next", "svc"), 50, 4); ok != 50 {
		t.Fatalf("tag next: %d of 50 answered (%s)", ok, first)
	}
	if got := counters["svc-00003-new"].served.Load() - before; got != 50 {
		t.Errorf("the tag next reached svc-00003-new %d times of 50", got)
	}

	for _, tt := range []struct{ host, want string }{
		{tagHost("gone", "svc"), `no traffic target of svc has the tag "gone"`},
		{tagHost("next", "other"), "is not an address of svc"},
		{"other" + routerDomain, "is not an address of svc"},
	} {
		ok, statuses, first := sendAll(context.Background(), client, srv.URL+"/", tt.host, 3, 1)
		if ok != 0 || statuses[http.StatusNotFound] != 3 || !strings.Contains(first, tt.want) {
			t.Errorf("%s: %d answered, %v, first %q; want 404 saying %q", tt.host, ok, statuses, first, tt.want)
		}
	}
}

// The run checks' verdicts from what the containers counted: a split that
// lands in the noise but says another percent fails, a right split outside
// the noise is the grader's fault, and traffic on a third revision fails the
// rest whatever the counts.
func TestCanaryVerdicts(t *testing.T) {
	const newRev, cur, old = "orders-api-00042-new", "orders-api-00041-tuz", "orders-api-00040-kav"
	split := func(pcts ...any) Split {
		s := Split{New: newRev, Percent: map[string]int64{}, Tags: map[string]string{"canary": newRev}}
		for i := 0; i+1 < len(pcts); i += 2 {
			rev := pcts[i].(string)
			s.Order = append(s.Order, rev)
			s.Percent[rev] = int64(pcts[i+1].(int))
		}
		return s
	}
	report := func(s Split, served map[string]int) *CanaryReport {
		return &CanaryReport{Split: s, Requests: 1000, Answered: 1000, Served: served, TagRequests: 50, TagAnswered: 50,
			TagServed: map[string]int{newRev: 50}}
	}
	checks := canaryRunChecks(testCanary)
	tests := []struct {
		name         string
		rep          *CanaryReport
		split, rest  grader.CheckStatus
		splitMessage string
		restMessage  string
	}{
		{name: "Right", rep: report(split(cur, 90, newRev, 10), map[string]int{newRev: 104, cur: 896}),
			split: grader.CheckPass, rest: grader.CheckPass},
		{name: "InTheNoiseButDeclared12", rep: report(split(cur, 88, newRev, 12), map[string]int{newRev: 118, cur: 882}),
			split: grader.CheckFail, rest: grader.CheckFail, splitMessage: "your traffic block gives it 12%", restMessage: "gives it 88%"},
		{name: "RightButTheRouterStrayed", rep: report(split(cur, 90, newRev, 10), map[string]int{newRev: 150, cur: 850}),
			split: grader.CheckError, rest: grader.CheckError, splitMessage: "does not count", restMessage: "does not count"},
		{name: "Swapped", rep: report(split(cur, 10, newRev, 90), map[string]int{newRev: 897, cur: 103}),
			split: grader.CheckFail, rest: grader.CheckFail, splitMessage: "the canary must get 10% (62–138 of 1000)", restMessage: "(862–938 of 1000)"},
		{name: "RestOnAThirdRevision", rep: report(split(old, 90, newRev, 10), map[string]int{newRev: 99, old: 901}),
			split: grader.CheckPass, rest: grader.CheckFail, restMessage: "orders-api-00040-kav served 901"},
		{name: "TooManyFailed", rep: func() *CanaryReport {
			r := report(split(cur, 90, newRev, 10), map[string]int{newRev: 90, cur: 800})
			r.Answered, r.Failed = 890, "502 relay down"
			return r
		}(), split: grader.CheckError, rest: grader.CheckError, splitMessage: "only 890 of 1000", restMessage: "502 relay down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, r := splitCheck(checks[0], tt.rep, testCanary), restCheck(checks[1], tt.rep, testCanary)
			for _, v := range []struct {
				c    grader.Check
				want grader.CheckStatus
				msg  string
			}{{s, tt.split, tt.splitMessage}, {r, tt.rest, tt.restMessage}} {
				if v.c.Status != v.want || !strings.Contains(v.c.Message, v.msg) {
					t.Errorf("%s: %s %q, want %s with %q", v.c.ID, v.c.Status, v.c.Message, v.want, v.msg)
				}
				if v.c.Status == grader.CheckPass && v.c.Points != v.c.MaxPoints {
					t.Errorf("%s passes with %v of %v points", v.c.ID, v.c.Points, v.c.MaxPoints)
				}
			}
		})
	}
	t.Run("TagOnAnotherRevision", func(t *testing.T) {
		rep := report(split(cur, 90, newRev, 10), map[string]int{newRev: 100, cur: 900})
		rep.TagServed = map[string]int{cur: 50}
		c := tagCheck(checks[2], rep, testCanary)
		if c.Status != grader.CheckFail || !strings.Contains(c.Message, "orders-api-00041-tuz served 50") {
			t.Errorf("%s %q", c.Status, c.Message)
		}
	})
	t.Run("NoSuchTag", func(t *testing.T) {
		rep := report(split(cur, 90, newRev, 10), map[string]int{newRev: 100, cur: 900})
		rep.TagServed, rep.TagAnswered, rep.TagProblem = map[string]int{}, 0, `404 no traffic target of orders-api has the tag "canary"`
		c := tagCheck(checks[2], rep, testCanary)
		if c.Status != grader.CheckFail || !strings.Contains(c.Message, "has the tag") || c.Hint == "" {
			t.Errorf("%s %q hint %q", c.Status, c.Message, c.Hint)
		}
	})
}
