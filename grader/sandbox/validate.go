package sandbox

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidSpec marks a container, network or connection the sandbox
// refuses because a value in it (often from a submission) is not one the
// engine should be given.
var ErrInvalidSpec = errors.New("invalid container settings")

// validate checks every value of spec that reaches the engine. A kind
// judges the submission itself; this is the sandbox's own guard, whatever
// the kind let through.
func (spec ContainerSpec) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidSpec, fmt.Sprintf(format, args...))
	}
	if !validAlias(spec.Name) {
		return bad("container name %q is not a network name (1-63 letters, digits, '-', '_' or '.')", clip(spec.Name))
	}
	for _, a := range spec.Aliases {
		if !validAlias(a) {
			return bad("network alias %q is not a network name", clip(a))
		}
	}
	if len(spec.Env) > 1000 {
		return bad("%d environment variables; at most 1000", len(spec.Env))
	}
	for k, v := range spec.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || len(k) > 1024 {
			return bad("environment variable name %q is not a name a process can receive", clip(k))
		}
		if strings.ContainsRune(v, 0) || len(v) > 64<<10 {
			return bad("environment variable %s holds a NUL byte or more than 64 KiB", clip(k))
		}
	}
	if len(spec.Cmd) > 256 {
		return bad("a command of %d arguments; at most 256", len(spec.Cmd))
	}
	if spec.MemoryMB < 0 || spec.NanoCPUs < 0 {
		return bad("negative memory or CPU")
	}
	if h := spec.Health; h != nil {
		if len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL") {
			return bad("a health check must be CMD or CMD-SHELL with a command")
		}
		for _, d := range []time.Duration{h.Interval, h.Timeout, h.StartPeriod} {
			// The engine refuses durations below a millisecond, except 0
			// (its default).
			if d < 0 || (d > 0 && d < time.Millisecond) || d > time.Hour {
				return bad("health check duration %s is outside 1 ms-1 h", d)
			}
		}
		if h.Retries < 0 || h.Retries > 100 {
			return bad("health check retries %d is outside 0-100", h.Retries)
		}
	}
	return nil
}

// validAlias accepts names the engine's DNS can serve as one label.
func validAlias(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// validAddr accepts HOST:PORT with a port of 1-65535 and a host that is a
// network name or an IP address.
func validAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q is not HOST:PORT", ErrInvalidSpec, clip(addr))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%w: port %q is not a TCP port (1-65535)", ErrInvalidSpec, clip(port))
	}
	if net.ParseIP(host) == nil && !validAlias(host) {
		return fmt.Errorf("%w: host %q is neither an address nor a network name", ErrInvalidSpec, clip(host))
	}
	return nil
}

func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
