package cloudrun

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"coldstart/grader"
)

// CanaryScenario is the scenario of a traffic-split exercise: a service that
// has revisions already, one of them serving all traffic, and a template
// that creates a new one. The submission's spec.traffic must send the
// stated share to the new revision, leave the rest on the current one, and
// give the new revision the stated tag.
type CanaryScenario struct {
	// Service is the name of the service the revisions belong to.
	Service string `yaml:"service"`
	// Revisions are the revisions the service has before the update,
	// oldest first.
	Revisions []string `yaml:"revisions"`
	// Current is the revision that serves all traffic before the update.
	Current string `yaml:"current"`
	// Share is the percent of requests the new revision must get.
	Share int `yaml:"share"`
	// Tag is the tag by which the new revision must be reachable.
	Tag string `yaml:"tag"`
	// Requests is how many requests the trial sends to the service's URL,
	// and TagRequests how many to the tag's.
	Requests    int `yaml:"requests"`
	TagRequests int `yaml:"tagRequests"`
}

// Limits of the canary trial on the grader's machine.
const (
	maxCanaryRevisions = 5
	minCanaryRequests  = 200
	maxCanaryRequests  = 5000
)

func (c *CanaryScenario) normalise() error {
	if c.Requests == 0 {
		c.Requests = 1000
	}
	if c.TagRequests == 0 {
		c.TagRequests = 50
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	if p := dnsLabelProblem(c.Service); p != "" {
		check(false, "canary.service %q is not a service name: %s", c.Service, p)
	}
	check(len(c.Revisions) >= 1 && len(c.Revisions) <= maxCanaryRevisions, "canary.revisions lists %d revisions; give 1–%d", len(c.Revisions), maxCanaryRevisions)
	seen := map[string]bool{}
	for i, r := range c.Revisions {
		switch {
		case dnsLabelProblem(r) != "":
			check(false, "canary.revisions[%d] %q is not a revision name: %s", i, r, dnsLabelProblem(r))
		case c.Service != "" && !strings.HasPrefix(r, c.Service+"-"):
			check(false, "canary.revisions[%d] %q does not start with %q, as the revisions of %s do", i, r, c.Service+"-", c.Service)
		case seen[r]:
			check(false, "canary.revisions lists %q twice", r)
		}
		seen[r] = true
	}
	check(slices.Contains(c.Revisions, c.Current), "canary.current %q is not one of canary.revisions", c.Current)
	check(c.Share >= 1 && c.Share <= 99, "canary.share %d is not 1–99: the new revision takes a part of the traffic and the current one the rest", c.Share)
	if p := dnsLabelProblem(c.Tag); p != "" {
		check(false, "canary.tag %q is not a tag Cloud Run accepts: %s", c.Tag, p)
	}
	check(c.Requests >= minCanaryRequests && c.Requests <= maxCanaryRequests, "canary.requests %d is not %d–%d", c.Requests, minCanaryRequests, maxCanaryRequests)
	check(c.TagRequests >= 10 && c.TagRequests <= 500, "canary.tagRequests %d is not 10–500", c.TagRequests)
	if len(errs) == 0 {
		// With fewer requests the share cannot be told from its neighbours.
		if tol := binomialTolerance(c.Requests, float64(c.Share)/100); float64(tol) >= float64(c.Requests)*float64(c.Share)/100 {
			errs = append(errs, fmt.Errorf("canary.requests %d is too few to measure a share of %d%%: the sampling noise (±%d requests) is as large as the share itself", c.Requests, c.Share, tol))
		}
	}
	return errors.Join(errs...)
}

// canaryRunChecks are the checks of the canary's run phase.
func canaryRunChecks(c *CanaryScenario) []grader.Check {
	return []grader.Check{
		{ID: "run.split", Title: fmt.Sprintf("The new revision gets %d%% of the requests", c.Share), Phase: grader.PhaseRun, MaxPoints: 3},
		{ID: "run.rest", Title: fmt.Sprintf("%s keeps the other %d%%", c.Current, 100-c.Share), Phase: grader.PhaseRun, MaxPoints: 2},
		{ID: "run.tag", Title: fmt.Sprintf("The tag %s reaches the new revision directly", c.Tag), Phase: grader.PhaseRun, MaxPoints: 2},
	}
}
