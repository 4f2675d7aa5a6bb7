package cloudrun

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// TrafficTarget is one entry of spec.traffic as the submission wrote it
// (Cloud Run Admin API v1, TrafficTarget). A field left out has its Set
// flag false.
type TrafficTarget struct {
	Path         string // spec.traffic[i]
	RevisionName string
	RevisionSet  bool
	Latest       bool
	LatestSet    bool
	Percent      int64
	PercentSet   bool
	Tag          string
	TagSet       bool
	// percentBad: the percent was given but could not be read.
	percentBad bool
}

// latest reports whether the entry follows the latest ready revision:
// latestRevision "must be false if RevisionName is set" and "defaults to
// true otherwise" (Admin API v1, TrafficTarget).
func (t TrafficTarget) latest() bool {
	if t.LatestSet {
		return t.Latest
	}
	return !t.RevisionSet
}

// dns1035 is a DNS-1035 label: what Knative, and so Cloud Run's v1 API,
// asks of a tag and of a revision name (route_validation.go,
// revision_validation.go: validation.IsDNS1035Label).
var dns1035 = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// dnsLabelProblem says why s is not a DNS-1035 label, or "".
func dnsLabelProblem(s string) string {
	switch {
	case s == "":
		return "it is empty"
	case len(s) > 63:
		return fmt.Sprintf("it has %d characters, and a DNS label has at most 63", len(s))
	case !dns1035.MatchString(s):
		return "a DNS label has only lowercase letters, digits and '-', starts with a letter and ends with a letter or digit"
	}
	return ""
}

// newRevision is the name of the revision the submission's template
// creates: its metadata.name, or the one Cloud Run would generate, after the
// service's last revision.
func (c *CanaryScenario) newRevision(svc *Service) (name string, named bool) {
	if svc.RevisionName != "" {
		return svc.RevisionName, true
	}
	next := 1
	for _, r := range c.Revisions {
		if n, ok := revisionNumber(c.Service, r); ok && n >= next {
			next = n + 1
		}
	}
	// Cloud Run ends the name with three random letters, which no
	// submission can know: shown here as xxx, and never matched by a
	// revisionName (see judgeTraffic).
	return fmt.Sprintf("%s-%05d-xxx", c.Service, next), false
}

// revisionNumber reads the generation number Cloud Run puts in a revision's
// name (SERVICE-00041-abc).
func revisionNumber(service, rev string) (int, bool) {
	rest, ok := strings.CutPrefix(rev, service+"-")
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, "-")
	n, err := strconv.Atoi(num)
	return n, err == nil
}

// judgeTraffic adds the problems of the traffic block, the revision names
// and the tags, by Cloud Run's rules, for a service that already has the
// scenario's revisions.
func judgeTraffic(svc *Service, c *CanaryScenario, add addFunc, notes map[string]string) {
	// The revision the template creates [revision_validation.go:
	// validateRevisionName; a revision is immutable, so a new configuration
	// needs a new name: "Saw the following changes without a name change"].
	newRev, named := c.newRevision(svc)
	revs := slices.Clone(c.Revisions)
	if named {
		path := "spec.template.metadata.name"
		switch {
		case dnsLabelProblem(newRev) != "":
			add("cloudrun.revisions", path, "the template's metadata.name %q is not a valid revision name: %s", newRev, dnsLabelProblem(newRev))
		case !strings.HasPrefix(newRev, c.Service+"-"):
			add("cloudrun.revisions", path, "the template's metadata.name %q must have the prefix %q: a revision's name starts with its service's name and a dash", newRev, c.Service+"-")
		case slices.Contains(c.Revisions, newRev):
			add("cloudrun.revisions", path, "the template's metadata.name %q is a revision the service already has; revisions are immutable, so a template with a new image needs a new name (Cloud Run refuses a revision whose name exists with a different configuration)", newRev)
		}
	}
	if named {
		revs = append(revs, newRev)
	}

	sum, readable := int64(0), true
	tags := map[string]string{}
	for _, t := range svc.Traffic {
		sum += t.Percent
		readable = readable && !t.percentBad
		switch {
		case t.LatestSet && t.Latest && t.RevisionSet:
			add("cloudrun.traffic", t.Path+".latestRevision", "%s sets both revisionName %q and latestRevision: true; they are mutually exclusive: an entry either pins a revision or follows the latest one", t.Path, t.RevisionName)
		case t.LatestSet && !t.Latest && !t.RevisionSet:
			add("cloudrun.traffic", t.Path+".latestRevision", "%s has latestRevision: false but no revisionName; an entry that does not follow the latest revision must name the revision it pins", t.Path)
		case t.RevisionSet:
			if p := dnsLabelProblem(t.RevisionName); p != "" {
				add("cloudrun.revisions", t.Path+".revisionName", "%s.revisionName %q is not a revision name: %s", t.Path, t.RevisionName, p)
			} else if !slices.Contains(revs, t.RevisionName) {
				add("cloudrun.revisions", t.Path+".revisionName", "%s.revisionName %q is not a revision of %s, whose revisions are %s", t.Path, t.RevisionName, c.Service, revisionList(revs, named))
			}
		}
		if !t.TagSet {
			continue
		}
		if p := dnsLabelProblem(t.Tag); p != "" {
			add("cloudrun.tags", t.Path+".tag", "%s.tag %q is not a DNS label (it becomes part of the tag's URL, %s---%s…): %s", t.Path, t.Tag, t.Tag, c.Service, p)
		} else if first, dup := tags[t.Tag]; dup {
			add("cloudrun.tags", t.Path+".tag", "the tag %q is given to both %s and %s; each tag names one traffic target, so it may appear once", t.Tag, first, t.Path)
		} else {
			tags[t.Tag] = t.Path
		}
	}
	// The percents sum to 100 [route_validation.go: "Traffic targets sum
	// to %d, want 100"]; no traffic block means all to the latest revision.
	if len(svc.Traffic) > 0 && readable && sum != 100 {
		add("cloudrun.traffic", "spec.traffic", "the traffic percents sum to %d; they must sum to 100 (%s)", sum, percentList(svc.Traffic))
	}

	split := resolveSplit(svc, c)
	notes["cloudrun.traffic"] = split.describe()
	notes["cloudrun.revisions"] = fmt.Sprintf("the template creates %s; every revision named exists", newRev)
	if !named {
		notes["cloudrun.revisions"] = fmt.Sprintf("the template has no metadata.name, so Cloud Run names its revision (%s, with three letters of its choosing); every revision named exists", newRev)
	}
	if len(tags) == 0 {
		notes["cloudrun.tags"] = "no tags"
	} else {
		notes["cloudrun.tags"] = fmt.Sprintf("%d tag(s), each a DNS label used once", len(tags))
	}
}

func revisionList(revs []string, named bool) string {
	if !named {
		return strings.Join(revs, ", ") + ", and the one the template creates, which has no name of its own to write here (metadata.name is not set, so Cloud Run chooses it; follow it with latestRevision: true)"
	}
	return strings.Join(revs[:len(revs)-1], ", ") + " and " + revs[len(revs)-1] + " (the one the template creates)"
}

func percentList(ts []TrafficTarget) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		target := t.RevisionName
		if t.latest() {
			target = "latest"
		}
		parts[i] = fmt.Sprintf("%s %d", target, t.Percent)
	}
	return strings.Join(parts, " + ")
}

// Split is the traffic a service routes once its template's revision is the
// latest: each revision's share of requests, and the revision each tag
// reaches.
type Split struct {
	New     string
	Order   []string         // revisions with a share or a tag, in the order given
	Percent map[string]int64 // by revision
	Tags    map[string]string
	// Defaulted is true when the service has no traffic block: all traffic
	// follows the latest revision.
	Defaulted bool
}

// resolveSplit turns the traffic block into a split. Several entries for
// one revision add up, as Cloud Run routes by revision.
func resolveSplit(svc *Service, c *CanaryScenario) Split {
	newRev, _ := c.newRevision(svc)
	s := Split{New: newRev, Percent: map[string]int64{}, Tags: map[string]string{}}
	targets := svc.Traffic
	if len(targets) == 0 {
		targets = []TrafficTarget{{Percent: 100, PercentSet: true}}
		s.Defaulted = true
	}
	for _, t := range targets {
		rev := t.RevisionName
		if t.latest() {
			rev = newRev
		}
		if _, seen := s.Percent[rev]; !seen {
			s.Order = append(s.Order, rev)
		}
		s.Percent[rev] += t.Percent
		if t.TagSet && t.Tag != "" {
			if _, dup := s.Tags[t.Tag]; !dup {
				s.Tags[t.Tag] = rev
			}
		}
	}
	return s
}

func (s Split) describe() string {
	if s.Defaulted {
		return fmt.Sprintf("no traffic block: all traffic follows the latest revision, %s", s.New)
	}
	var parts []string
	for _, r := range s.Order {
		parts = append(parts, fmt.Sprintf("%d%% to %s", s.Percent[r], r))
	}
	return strings.Join(parts, ", ")
}
