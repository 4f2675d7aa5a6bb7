package cloudrun

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"coldstart/grader"
	"coldstart/grader/sandbox"
)

// canaryConcurrency is how many requests the canary trial keeps in flight.
const canaryConcurrency = 16

// revisionLauncher starts each revision as a run-worker container on the
// trial's network, with the variables Cloud Run's container contract sets.
type revisionLauncher struct {
	scope    *sandbox.Scope
	network  string
	service  string
	memoryMB int64
}

type revisionContainer struct{ addr string }

func (r revisionContainer) Addr() string { return r.addr }

func (l *revisionLauncher) LaunchRevision(ctx context.Context, revision string) (RevisionBackend, error) {
	env := map[string]string{
		"PORT": strconv.Itoa(defaultPort),
		// The split is about where requests go, not how fast they are
		// served: the app answers at once and never queues.
		"PARALLELISM": "64", "WORK_MS": "1", "INIT_MS": "0",
		// What Cloud Run tells every instance about itself.
		"K_SERVICE": l.service, "K_REVISION": revision, "K_CONFIGURATION": l.service,
	}
	c, err := l.scope.Start(ctx, sandbox.ContainerSpec{Name: revision, Cmd: []string{"run-worker"}, Env: env,
		Networks: []string{l.network}, MemoryMB: l.memoryMB})
	if err != nil {
		return nil, err
	}
	ip, err := c.IP(ctx, l.network)
	if err != nil {
		return nil, err
	}
	return revisionContainer{addr: net.JoinHostPort(ip, strconv.Itoa(defaultPort))}, nil
}

// CanaryReport is what a canary trial observed. Served counts come from the
// revisions' own containers.
type CanaryReport struct {
	Split    Split
	Requests int // sent to the service's address
	Answered int // of those, answered 200
	// Served is what each running revision served of the service's
	// requests, and TagServed of the tag's.
	Served      map[string]int
	TagRequests int
	TagAnswered int
	TagServed   map[string]int
	// TagProblem is the router's answer when the tag reached no revision.
	TagProblem string
	// Failed is the first failure of a request to the service's address.
	Failed string
	Seed   uint64
	// Routed is what the router sent to each revision, over both parts:
	// its own account, set beside what the containers served.
	Routed map[string]int
}

// CanaryTrial plays a canary's split against real revisions.
type CanaryTrial struct {
	Scenario *CanaryScenario
	Split    Split
	Launcher RevisionLauncher
	// Dial reaches the revisions' addresses (the sandbox's relay).
	Dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	Progress func(format string, args ...any)
}

// Run starts the revisions, sends the requests and counts what each served.
func (t *CanaryTrial) Run(ctx context.Context) (*CanaryReport, error) {
	c, split := t.Scenario, t.Split
	progress := t.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	// One instance for every revision that takes traffic or has a tag.
	var revs []string
	tagged := map[string]bool{}
	for _, rev := range split.Tags {
		tagged[rev] = true
	}
	for _, rev := range split.Order {
		if split.Percent[rev] > 0 || tagged[rev] {
			revs = append(revs, rev)
		}
	}
	progress("starting %d revision(s): %s", len(revs), strings.Join(revs, ", "))
	backends := map[string]RevisionBackend{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	probe := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: t.Dial}}
	for _, rev := range revs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := t.Launcher.LaunchRevision(ctx, rev)
			if err == nil {
				err = waitReady(ctx, probe, b)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("revision %s could not start: %w", rev, err))
				return
			}
			backends[rev] = b
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var seedBytes [8]byte
	_, _ = crand.Read(seedBytes[:])
	seed := binary.LittleEndian.Uint64(seedBytes[:])
	router := NewSplitRouter(c.Service, split, backends, t.Dial, seed)
	defer router.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("the router could not listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	count := func() (map[string]int, error) {
		out := map[string]int{}
		for rev, b := range backends {
			n, err := served(ctx, probe, b)
			if err != nil {
				return nil, fmt.Errorf("revision %s did not say what it served: %w", rev, err)
			}
			out[rev] = n
		}
		return out, nil
	}
	delta := func(before, after map[string]int) map[string]int {
		out := map[string]int{}
		for rev := range after {
			out[rev] = after[rev] - before[rev]
		}
		return out
	}
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/"
	rep := &CanaryReport{Split: split, Requests: c.Requests, TagRequests: c.TagRequests, Seed: seed}

	before, err := count()
	if err != nil {
		return nil, err
	}
	progress("sending %d requests to %s", c.Requests, serviceHost(c.Service))
	ok, _, first := sendAll(ctx, client, url, serviceHost(c.Service), c.Requests, canaryConcurrency)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	mid, err := count()
	if err != nil {
		return nil, err
	}
	rep.Answered, rep.Failed, rep.Served = ok, first, delta(before, mid)
	progress("%s: %s", serviceHost(c.Service), servedText(rep.Served, ok))

	host := tagHost(c.Tag, c.Service)
	progress("sending %d requests to the tag's address %s", c.TagRequests, host)
	ok, _, first = sendAll(ctx, client, url, host, c.TagRequests, canaryConcurrency)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	end, err := count()
	if err != nil {
		return nil, err
	}
	rep.TagAnswered, rep.TagServed = ok, delta(mid, end)
	if ok < c.TagRequests {
		rep.TagProblem = first
	}
	progress("%s: %s", host, servedText(rep.TagServed, ok))
	rep.Routed = router.Routed()
	return rep, nil
}

func servedText(served map[string]int, answered int) string {
	revs := make([]string, 0, len(served))
	for rev := range served {
		revs = append(revs, rev)
	}
	sort.Strings(revs)
	parts := []string{fmt.Sprintf("%d answered", answered)}
	for _, rev := range revs {
		parts = append(parts, fmt.Sprintf("%s served %d", rev, served[rev]))
	}
	return strings.Join(parts, ", ")
}

// playCanary runs the canary's trial and records its checks.
func playCanary(ctx context.Context, g *grader.Grading, sc *Scenario, svc *Service) error {
	c := sc.Canary
	split := resolveSplit(svc, c)
	scope, nw, err := openTrial(ctx, g, "run.split", "Splitting requests between the revisions")
	if err != nil {
		return err
	}
	trial := &CanaryTrial{Scenario: c, Split: split, Dial: scope.Dialer(nw),
		Launcher: &revisionLauncher{scope: scope, network: nw.Name, service: c.Service, memoryMB: sc.Trial.InstanceMemoryMB},
		Progress: func(format string, args ...any) {
			g.Progress("run.split", format, args...)
			g.Logf(format, args...)
		}}
	rep, err := trial.Run(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the trial could not run: %w", err)
	}
	g.Logf("the router's weighted choice was seeded with %d", rep.Seed)
	for rev, n := range rep.Routed {
		if got := rep.Served[rev] + rep.TagServed[rev]; got != n {
			// The verdicts rest on the containers' counts; a difference means
			// requests were lost or repeated between the router and the app.
			g.Logf("the router sent %d requests to %s, and its container counted %d", n, rev, got)
		}
	}
	checks := canaryRunChecks(c)
	g.Add(splitCheck(checks[0], rep, c))
	g.Add(restCheck(checks[1], rep, c))
	g.Add(tagCheck(checks[2], rep, c))
	return nil
}

// share is k of n as a percent, for messages.
func share(k, n int) string {
	if n == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(k)/float64(n), 'f', 1, 64) + "%"
}

// band is the range of counts of n requests consistent with percent p.
func band(n int, p int) (lo, hi int) {
	exp := float64(n) * float64(p) / 100
	tol := binomialTolerance(n, float64(p)/100)
	return max(0, int(math.Round(exp))-tol), min(n, int(math.Round(exp))+tol)
}

// unjudged is the check's verdict when too many requests failed for the
// counts to say anything.
func unjudged(c grader.Check, r *CanaryReport) (grader.Check, bool) {
	if r.Answered*100 >= r.Requests*99 {
		return c, false
	}
	c.Status = grader.CheckError
	c.Message = fmt.Sprintf("only %d of %d requests were answered (first failure: %s), too few to measure a share; this attempt does not count", r.Answered, r.Requests, grader.Clip(r.Failed))
	return c, true
}

func splitCheck(c grader.Check, r *CanaryReport, sc *CanaryScenario) grader.Check {
	if out, ok := unjudged(c, r); ok {
		return out
	}
	n, k := r.Answered, r.Served[r.Split.New]
	lo, hi := band(n, sc.Share)
	declared := r.Split.Percent[r.Split.New]
	c.Observed = fmt.Sprintf("%d of %d requests (%s) served by the new revision %s", k, n, share(k, n), r.Split.New)
	c.Expected = fmt.Sprintf("%d%%: %d–%d of %d requests (±%d standard deviations of a binomial count)", sc.Share, lo, hi, n, binomialZ)
	c.Field = "spec.traffic"
	inBand := k >= lo && k <= hi
	switch {
	case inBand && declared == int64(sc.Share):
		c.Status, c.Points, c.Field = grader.CheckPass, c.MaxPoints, ""
		c.Message = fmt.Sprintf("%s served %d of %d requests (%s), within the sampling noise of %d%% (%d–%d): the router chose a revision for each request at random by your percents, as Cloud Run does.",
			r.Split.New, k, n, share(k, n), sc.Share, lo, hi)
	case inBand:
		c.Status = grader.CheckFail
		c.Message = fmt.Sprintf("%s served %d of %d requests (%s). That is within the sampling noise of %d%%, but your traffic block gives it %d%%, and over a day of traffic the difference shows: %s.",
			r.Split.New, k, n, share(k, n), sc.Share, declared, r.Split.describe())
		c.Hint = fmt.Sprintf("Give the new revision exactly percent: %d.", sc.Share)
	case declared == int64(sc.Share):
		// The split is right and the router strayed past four standard
		// deviations: once in thousands of gradings, or a fault of the grader.
		c.Status = grader.CheckError
		c.Message = fmt.Sprintf("your traffic block gives %s %d%%, but the router sent it %d of %d requests (%s), outside %d–%d: the grader's random choice strayed further than it should, so this attempt does not count. Grade again.",
			r.Split.New, declared, k, n, share(k, n), lo, hi)
	default:
		c.Status = grader.CheckFail
		c.Message = fmt.Sprintf("%s served %d of %d requests (%s); the canary must get %d%% (%d–%d of %d). Your traffic block routes %s.",
			r.Split.New, k, n, share(k, n), sc.Share, lo, hi, n, r.Split.describe())
		if r.Split.Defaulted {
			c.Message += " Without a traffic block every request follows the latest revision, which is the one this update creates."
		}
		c.Hint = fmt.Sprintf("List both revisions under spec.traffic: the new one with percent: %d, %s with the rest.", sc.Share, sc.Current)
	}
	return c
}

func restCheck(c grader.Check, r *CanaryReport, sc *CanaryScenario) grader.Check {
	if out, ok := unjudged(c, r); ok {
		return out
	}
	n, k := r.Answered, r.Served[sc.Current]
	want := 100 - sc.Share
	lo, hi := band(n, want)
	declared := r.Split.Percent[sc.Current]
	if sc.Current == r.Split.New {
		declared = 0 // the template replaces it; counted as the new revision
	}
	var others []string
	for rev, m := range r.Served {
		if rev != sc.Current && rev != r.Split.New && m > 0 {
			others = append(others, fmt.Sprintf("%s served %d (%s)", rev, m, share(m, n)))
		}
	}
	sort.Strings(others)
	c.Observed = fmt.Sprintf("%d of %d requests (%s) served by %s", k, n, share(k, n), sc.Current)
	if len(others) > 0 {
		c.Observed += "; " + strings.Join(others, ", ")
	}
	c.Expected = fmt.Sprintf("%d%%: %d–%d of %d requests, and none to any other revision", want, lo, hi, n)
	c.Field = "spec.traffic"
	inBand := k >= lo && k <= hi
	switch {
	case len(others) > 0:
		c.Status = grader.CheckFail
		c.Message = fmt.Sprintf("%s; the part that does not go to the canary must stay on %s, the revision serving today, but it served %d of %d (%s).",
			strings.Join(others, ", "), sc.Current, k, n, share(k, n))
		c.Hint = fmt.Sprintf("Send the rest to revisionName: %s.", sc.Current)
	case inBand && declared == int64(want):
		c.Status, c.Points, c.Field = grader.CheckPass, c.MaxPoints, ""
		c.Message = fmt.Sprintf("%s served %d of %d requests (%s), within the sampling noise of %d%% (%d–%d), and no other revision served any.", sc.Current, k, n, share(k, n), want, lo, hi)
	case inBand:
		c.Status = grader.CheckFail
		c.Message = fmt.Sprintf("%s served %d of %d requests (%s), within the sampling noise of %d%%, but your traffic block gives it %d%%.", sc.Current, k, n, share(k, n), want, declared)
		c.Hint = fmt.Sprintf("Give %s percent: %d.", sc.Current, want)
	case declared == int64(want):
		c.Status = grader.CheckError
		c.Message = fmt.Sprintf("your traffic block gives %s %d%%, but the router sent it %d of %d requests (%s), outside %d–%d: the grader's random choice strayed further than it should, so this attempt does not count. Grade again.",
			sc.Current, declared, k, n, share(k, n), lo, hi)
	default:
		c.Status = grader.CheckFail
		c.Message = fmt.Sprintf("%s served %d of %d requests (%s); it must keep the %d%% the canary does not take (%d–%d of %d). Your traffic block routes %s.",
			sc.Current, k, n, share(k, n), want, lo, hi, n, r.Split.describe())
		c.Hint = fmt.Sprintf("Give %s percent: %d.", sc.Current, want)
	}
	return c
}

func tagCheck(c grader.Check, r *CanaryReport, sc *CanaryScenario) grader.Check {
	n, k := r.TagRequests, r.TagServed[r.Split.New]
	host := tagHost(sc.Tag, sc.Service)
	c.Observed = fmt.Sprintf("%d of %d requests to %s served by %s", k, n, host, r.Split.New)
	c.Expected = fmt.Sprintf("all %d served by the new revision %s", n, r.Split.New)
	c.Field = "spec.traffic"
	var others []string
	for rev, m := range r.TagServed {
		if rev != r.Split.New && m > 0 {
			others = append(others, fmt.Sprintf("%s served %d", rev, m))
		}
	}
	sort.Strings(others)
	switch {
	case k == n:
		c.Status, c.Points, c.Field = grader.CheckPass, c.MaxPoints, ""
		c.Message = fmt.Sprintf("all %d requests to %s reached %s, whatever the split: the tag addresses that revision alone.", n, host, r.Split.New)
	case len(others) > 0:
		c.Status = grader.CheckFail
		c.Message = fmt.Sprintf("requests to %s reached %s, not the new revision %s: the tag %q is on the entry of another revision.", host, strings.Join(others, ", "), r.Split.New, sc.Tag)
		c.Hint = fmt.Sprintf("Put tag: %s on the traffic entry of the new revision.", sc.Tag)
	case r.TagAnswered == 0 && r.TagProblem != "":
		c.Status = grader.CheckFail
		c.Message = fmt.Sprintf("none of the %d requests to %s was served: the router answered %s.", n, host, grader.Clip(r.TagProblem))
		c.Hint = fmt.Sprintf("Add tag: %s to the traffic entry of the new revision; a tagged entry may have any percent, 0 included.", sc.Tag)
	default:
		c.Status = grader.CheckError
		c.Message = fmt.Sprintf("only %d of %d requests to %s were served (first failure: %s); this attempt does not count.", k, n, host, grader.Clip(r.TagProblem))
	}
	return c
}
