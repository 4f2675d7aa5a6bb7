package cloudrun

import (
	"context"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// arrival is one planned request of the traffic profile.
type arrival struct {
	at    time.Duration // since the start of the traffic
	phase int
}

// plan spreads each phase's requests evenly over the phase, so that two
// trials of the same scenario send the same traffic.
func plan(phases []Phase) []arrival {
	var out []arrival
	start := 0.0
	for i, ph := range phases {
		n := int(math.Round(ph.RPS * ph.Seconds))
		for k := range n {
			t := start + (float64(k)+0.5)/ph.RPS
			out = append(out, arrival{at: time.Duration(t * float64(time.Second)), phase: i})
		}
		start += ph.Seconds
	}
	return out
}

// outcome is what the load generator saw of one request.
type outcome struct {
	arrival
	latency time.Duration
	ok      bool
	// unfinished: no answer had come when the trial ended.
	unfinished bool
}

// generate plays the planned arrivals against url from start on, each in
// its own goroutine (an open workload: a slow service does not slow the
// arrivals), and waits for the answers until cutoff.
func generate(ctx context.Context, url string, arrivals []arrival, start, cutoff time.Time) []outcome {
	tr := &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithDeadline(ctx, cutoff)
	defer cancel()
	out := make([]outcome, len(arrivals))
	var wg sync.WaitGroup
	for i, a := range arrivals {
		if d := time.Until(start.Add(a.at)); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		out[i].arrival = a
		if ctx.Err() != nil {
			out[i].unfinished = true
			out[i].latency = time.Duration(0)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			req.Header.Set(SeqHeader, strconv.Itoa(i))
			resp, err := client.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
			}
			out[i].latency = time.Since(sent)
			switch {
			case err != nil && ctx.Err() != nil:
				out[i].unfinished = true
			case err == nil && resp.StatusCode == http.StatusOK:
				out[i].ok = true
			}
		}()
	}
	wg.Wait()
	return out
}

// percentiles of the latencies, counting a failed or unanswered request as
// slower than any answer.
type percentiles struct {
	P50, P95, P99 time.Duration
	// Failed50… are true when that percentile fell on a failed request.
	Failed50, Failed95, Failed99 bool
}

func latencyPercentiles(outs []outcome) percentiles {
	lat := make([]time.Duration, len(outs))
	for i, o := range outs {
		lat[i] = o.latency
		if !o.ok {
			lat[i] = time.Duration(math.MaxInt64)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	at := func(q float64) (time.Duration, bool) {
		if len(lat) == 0 {
			return 0, false
		}
		// Nearest rank: the smallest latency at or above the q-quantile.
		idx := int(math.Ceil(q*float64(len(lat)))) - 1
		idx = max(0, min(idx, len(lat)-1))
		return lat[idx], lat[idx] == time.Duration(math.MaxInt64)
	}
	var p percentiles
	p.P50, p.Failed50 = at(0.50)
	p.P95, p.Failed95 = at(0.95)
	p.P99, p.Failed99 = at(0.99)
	return p
}
