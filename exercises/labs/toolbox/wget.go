package toolbox

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// wget's exit codes (GNU and busybox agree on these two).
const (
	wgetUsage   = 2
	wgetNetwork = 4
	wgetServer  = 8
	wgetWrite   = 3
)

type wgetOptions struct {
	quiet, spider bool
	output        string
	timeout       time.Duration
	url           string
}

func parseWget(args []string) (wgetOptions, error) {
	o := wgetOptions{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-q" || a == "--quiet":
			o.quiet = true
		case a == "--spider":
			o.spider = true
		case a == "-O-":
			o.output = "-"
		case strings.HasPrefix(a, "-O") && len(a) > 2:
			o.output = a[2:]
		case strings.HasPrefix(a, "--output-document="):
			o.output = strings.TrimPrefix(a, "--output-document=")
		case strings.HasPrefix(a, "--timeout="):
			var err error
			if o.timeout, err = parseSeconds(strings.TrimPrefix(a, "--timeout=")); err != nil {
				return o, fmt.Errorf("--timeout: %v", err)
			}
		case strings.HasPrefix(a, "-T") && len(a) > 2:
			var err error
			if o.timeout, err = parseSeconds(a[2:]); err != nil {
				return o, fmt.Errorf("-T: %v", err)
			}
		case a == "-O" || a == "-T" || a == "--output-document" || a == "--timeout":
			if i+1 >= len(args) {
				return o, fmt.Errorf("option requires an argument -- '%s'", strings.TrimLeft(a, "-"))
			}
			i++
			if a == "-O" || a == "--output-document" {
				o.output = args[i]
				continue
			}
			var err error
			if o.timeout, err = parseSeconds(args[i]); err != nil {
				return o, fmt.Errorf("%s: %v", a, err)
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			return o, fmt.Errorf("unrecognized option '%s'", a)
		default:
			if o.url != "" {
				return o, fmt.Errorf("only one URL is supported here, got %q and %q", o.url, a)
			}
			o.url = a
		}
	}
	if o.url == "" {
		return o, fmt.Errorf("missing URL")
	}
	return o, nil
}

func wget(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseWget(args)
	if err != nil {
		fmt.Fprintf(stderr, "wget: %v\n", err)
		return wgetUsage
	}
	method := "GET"
	if o.spider {
		method = "HEAD"
	}
	res := fetch(ctx, method, o.url, o.timeout)
	switch res.failure {
	case failRefused:
		fmt.Fprintf(stderr, "wget: can't connect to remote host (%s): Connection refused\n", res.host)
		return wgetNetwork
	case failTimeout:
		fmt.Fprintln(stderr, "wget: download timed out")
		return wgetNetwork
	case failResolve:
		fmt.Fprintf(stderr, "wget: bad address '%s'\n", res.host)
		return wgetNetwork
	case failOther:
		fmt.Fprintf(stderr, "wget: %v\n", res.err)
		return wgetNetwork
	}
	if res.status >= 400 {
		fmt.Fprintf(stderr, "wget: server returned error: HTTP/1.1 %d\n", res.status)
		return wgetServer
	}
	if o.spider {
		if !o.quiet {
			fmt.Fprintln(stderr, "remote file exists")
		}
		return 0
	}
	dest := o.output
	if dest == "" {
		// Without -O wget saves to a file named after the URL, which a
		// read-only root refuses; say so plainly.
		dest = "index.html"
	}
	if err := writeBody(dest, res.body, stdout); err != nil {
		fmt.Fprintf(stderr, "wget: can't open '%s': %v\n", dest, err)
		return wgetWrite
	}
	return 0
}
