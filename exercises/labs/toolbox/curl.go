package toolbox

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// curl's exit codes for the failures it reports.
const (
	curlUsage    = 2
	curlResolve  = 6
	curlConnect  = 7
	curlHTTP     = 22
	curlWrite    = 23
	curlTimeout  = 28
	curlProtocol = 1
)

type curlOptions struct {
	fail, silent, showError, head bool
	output                        string
	maxTime                       time.Duration
	method                        string
	url                           string
}

func parseCurl(args []string) (curlOptions, error) {
	o := curlOptions{method: "GET"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s: requires parameter", a)
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "--fail":
			o.fail = true
		case a == "--silent":
			o.silent = true
		case a == "--show-error":
			o.showError = true
		case a == "--head":
			o.head = true
		case a == "--location", a == "-L":
			// Redirects are followed by default here.
		case a == "--output", a == "--max-time", a == "--request", a == "-X", a == "-m", a == "-o":
			v, err := value()
			if err != nil {
				return o, err
			}
			switch a {
			case "--output", "-o":
				o.output = v
			case "--max-time", "-m":
				if o.maxTime, err = parseSeconds(v); err != nil {
					return o, fmt.Errorf("option %s: %v", a, err)
				}
			default:
				o.method = strings.ToUpper(v)
			}
		case strings.HasPrefix(a, "--max-time="):
			var err error
			if o.maxTime, err = parseSeconds(strings.TrimPrefix(a, "--max-time=")); err != nil {
				return o, fmt.Errorf("option --max-time: %v", err)
			}
		case strings.HasPrefix(a, "--"):
			return o, fmt.Errorf("option %s: is unknown", a)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// Bundled short flags such as -fsS; o and m take the rest or the next argument.
			for j := 1; j < len(a); j++ {
				switch a[j] {
				case 'f':
					o.fail = true
				case 's':
					o.silent = true
				case 'S':
					o.showError = true
				case 'I':
					o.head = true
				case 'L':
				case 'o', 'm':
					v := a[j+1:]
					if v == "" {
						if i+1 >= len(args) {
							return o, fmt.Errorf("option -%c: requires parameter", a[j])
						}
						i++
						v = args[i]
					}
					if a[j] == 'o' {
						o.output = v
					} else {
						var err error
						if o.maxTime, err = parseSeconds(v); err != nil {
							return o, fmt.Errorf("option -m: %v", err)
						}
					}
					j = len(a)
				default:
					return o, fmt.Errorf("option -%c: is unknown", a[j])
				}
			}
		default:
			if o.url != "" {
				return o, fmt.Errorf("only one URL is supported here, got %q and %q", o.url, a)
			}
			o.url = a
		}
	}
	if o.url == "" {
		return o, fmt.Errorf("no URL specified")
	}
	if o.head {
		o.method = "HEAD"
	}
	return o, nil
}

func curl(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseCurl(args)
	if err != nil {
		fmt.Fprintf(stderr, "curl: %v\n", err)
		return curlUsage
	}
	report := func(code int, format string, a ...any) int {
		if !o.silent || o.showError {
			fmt.Fprintf(stderr, "curl: (%d) %s\n", code, fmt.Sprintf(format, a...))
		}
		return code
	}
	res := fetch(ctx, o.method, o.url, o.maxTime)
	switch res.failure {
	case failRefused:
		return report(curlConnect, "Failed to connect to %s port %s: Connection refused", res.host, res.port)
	case failTimeout:
		return report(curlTimeout, "Operation timed out after %d milliseconds", o.maxTime.Milliseconds())
	case failResolve:
		return report(curlResolve, "Could not resolve host: %s", res.host)
	case failOther:
		return report(curlProtocol, "%v", res.err)
	}
	if o.fail && res.status >= 400 {
		return report(curlHTTP, "The requested URL returned error: %d", res.status)
	}
	if err := writeBody(o.output, res.body, stdout); err != nil {
		return report(curlWrite, "Failure writing output to destination: %v", err)
	}
	return 0
}
