package cloudrun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the canary's small Cloud Run: one instance per revision, a
// router that picks a revision for each request by a weighted random choice
// over the traffic block's percents (as Cloud Run splits traffic request by
// request), and that sends a request addressed to TAG---SERVICE to the
// revision the tag names. What each revision served is counted by the
// revision's own container, not by the router.

// RevisionBackend is one started revision.
type RevisionBackend interface {
	// Addr is host:port where the revision's app listens.
	Addr() string
}

// RevisionLauncher starts the instance of one revision.
type RevisionLauncher interface {
	LaunchRevision(ctx context.Context, revision string) (RevisionBackend, error)
}

// Hosts the router answers: the service's own address and, for each tag,
// TAG---SERVICE, as a tag's URL on Cloud Run is https://TAG---SERVICE-….run.app.
const routerDomain = ".run.local"

func serviceHost(service string) string  { return service + routerDomain }
func tagHost(tag, service string) string { return tag + "---" + service + routerDomain }

// RevisionHeader names the revision that served an answer, as the router
// saw it.
const RevisionHeader = "X-Served-By-Revision"

// SplitRouter routes requests to revisions by a split.
type SplitRouter struct {
	service  string
	split    Split
	backends map[string]RevisionBackend
	client   *http.Client

	mu  sync.Mutex
	rng *rand.Rand

	routed  map[string]*atomic.Int64
	unknown atomic.Int64 // requests to a tag no target has
}

// NewSplitRouter returns a router for split over backends, one per revision
// with a share or a tag; dial reaches their addresses, seed seeds the
// weighted choice.
func NewSplitRouter(service string, split Split, backends map[string]RevisionBackend, dial func(ctx context.Context, network, addr string) (net.Conn, error), seed uint64) *SplitRouter {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second, DisableCompression: true, DialContext: dial}
	r := &SplitRouter{service: service, split: split, backends: backends, client: &http.Client{Transport: tr, Timeout: 10 * time.Second},
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), routed: map[string]*atomic.Int64{}}
	for rev := range backends {
		r.routed[rev] = &atomic.Int64{}
	}
	return r
}

// pick chooses a revision for one request: revision r with probability
// percent(r)/100.
func (r *SplitRouter) pick() string {
	r.mu.Lock()
	n := r.rng.Int64N(100)
	r.mu.Unlock()
	for _, rev := range r.split.Order {
		p := r.split.Percent[rev]
		if n < p {
			return rev
		}
		n -= p
	}
	return "" // the percents sum to less than 100; the static checks refuse that
}

// target returns the revision a request goes to, or why none.
func (r *SplitRouter) target(host string) (string, string) {
	host, _, _ = strings.Cut(host, ":")
	if tag, rest, ok := strings.Cut(host, "---"); ok {
		if rest != serviceHost(r.service) {
			return "", fmt.Sprintf("%s is not an address of %s", host, r.service)
		}
		rev, ok := r.split.Tags[tag]
		if !ok {
			r.unknown.Add(1)
			return "", fmt.Sprintf("no traffic target of %s has the tag %q", r.service, tag)
		}
		return rev, ""
	}
	if host != serviceHost(r.service) {
		return "", fmt.Sprintf("%s is not an address of %s", host, r.service)
	}
	return r.pick(), ""
}

// ServeHTTP forwards the request to the revision its address and the split
// choose.
func (r *SplitRouter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rev, why := r.target(req.Host)
	if rev == "" && why == "" {
		why = "the traffic block sends this request to no revision"
	}
	b := r.backends[rev]
	if why == "" && b == nil {
		why = fmt.Sprintf("revision %s is not running", rev)
	}
	if why != "" {
		http.Error(w, why, http.StatusNotFound)
		return
	}
	r.routed[rev].Add(1)
	out, err := http.NewRequestWithContext(req.Context(), http.MethodGet, "http://"+b.Addr()+"/", nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := r.client.Do(out)
	if err != nil {
		http.Error(w, fmt.Sprintf("%s: %v", rev, err), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set(RevisionHeader, rev)
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 64<<10))
}

// Routed returns how many requests the router sent to each revision.
func (r *SplitRouter) Routed() map[string]int {
	out := map[string]int{}
	for rev, n := range r.routed {
		out[rev] = int(n.Load())
	}
	return out
}

// Close drops the router's idle connections.
func (r *SplitRouter) Close() { r.client.CloseIdleConnections() }

// served asks a revision's container how many requests it has served
// (run-worker's /healthz counts them; the probe itself is not counted).
func served(ctx context.Context, client *http.Client, b RevisionBackend) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.Addr()+"/healthz", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var h struct {
		Served int `json:"served"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&h); err != nil {
		return 0, fmt.Errorf("its /healthz answer is not the lab's: %w", err)
	}
	return h.Served, nil
}

// waitReady polls a revision's /healthz until it answers, for up to 20 s.
func waitReady(ctx context.Context, client *http.Client, b RevisionBackend) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := served(ctx, client, b)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the app did not answer within 20 s of its container starting: %w", err)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

// sendAll sends n requests to url with Host host, conc at a time, and
// returns how many were answered 200 and the first other outcome.
func sendAll(ctx context.Context, client *http.Client, url, host string, n, conc int) (ok int, statuses map[int]int, firstErr string) {
	var mu sync.Mutex
	statuses = map[int]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				req.Host = host
				resp, err := client.Do(req)
				var body string
				if err == nil {
					b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
					resp.Body.Close()
					body = strings.TrimSpace(string(b))
				}
				mu.Lock()
				switch {
				case err != nil:
					statuses[0]++
					if firstErr == "" {
						firstErr = err.Error()
					}
				case resp.StatusCode == http.StatusOK:
					ok++
					statuses[http.StatusOK]++
				default:
					statuses[resp.StatusCode]++
					if firstErr == "" {
						firstErr = fmt.Sprintf("%d %s", resp.StatusCode, body)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok, statuses, firstErr
}

// binomialZ is how many standard deviations of a binomial count the
// observed share may stray from the expected one: a correct split is
// judged wrong about once in 16,000 gradings.
const binomialZ = 4

// binomialTolerance is binomialZ standard deviations of the number of n
// requests that go to a target of probability p, rounded up.
func binomialTolerance(n int, p float64) int {
	return int(math.Ceil(binomialZ * math.Sqrt(float64(n)*p*(1-p))))
}
