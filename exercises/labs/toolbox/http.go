package toolbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fetchFailure says why a request got no HTTP answer, in the words the real
// tools use.
type fetchFailure int

const (
	failNone fetchFailure = iota
	failRefused
	failTimeout
	failResolve
	failOther
)

type fetchResult struct {
	status  int
	body    []byte
	host    string
	port    string
	failure fetchFailure
	err     error
}

// fetch sends one request. A scratch image has no /etc/hosts entries to
// rely on, so "localhost" is the loopback address here.
func fetch(ctx context.Context, method, rawURL string, timeout time.Duration) fetchResult {
	if !strings.Contains(rawURL, "://") {
		rawURL = "http://" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return fetchResult{failure: failOther, err: fmt.Errorf("bad URL %q", rawURL)}
	}
	if u.Scheme != "http" {
		return fetchResult{failure: failOther, err: fmt.Errorf("protocol %q is not supported (only http)", u.Scheme)}
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	res := fetchResult{host: host, port: port}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	dialer := &net.Dialer{}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			h, p, _ := net.SplitHostPort(addr)
			if h == "localhost" {
				h = "127.0.0.1"
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(h, p))
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		res.failure, res.err = failOther, err
		return res
	}
	req.Header.Set("User-Agent", "coldstart-toolbox")
	resp, err := (&http.Client{Transport: tr, Timeout: 0}).Do(req)
	if err != nil {
		res.err = err
		var dnsErr *net.DNSError
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			res.failure = failRefused
		case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
			res.failure = failTimeout
		case errors.As(err, &dnsErr):
			res.failure = failResolve
		default:
			res.failure = failOther
		}
		return res
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	res.body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		res.err = err
		if errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err) {
			res.failure = failTimeout
		} else {
			res.failure = failOther
		}
	}
	return res
}

// parseSeconds reads a timeout given in (possibly fractional) seconds.
func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 86400 {
		return 0, fmt.Errorf("bad number of seconds %q", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// writeBody writes a response body to "-" (standard output), /dev/null or
// a file. The lab images have a read-only root, so files other than those
// usually cannot be written.
func writeBody(dest string, body []byte, stdout io.Writer) error {
	switch dest {
	case "", "-":
		_, err := stdout.Write(body)
		return err
	}
	return os.WriteFile(dest, body, 0o644)
}
