package toolbox

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
)

var signals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "15": syscall.SIGTERM,
	"KILL": syscall.SIGKILL, "9": syscall.SIGKILL,
	"INT": syscall.SIGINT, "2": syscall.SIGINT,
	"HUP": syscall.SIGHUP, "1": syscall.SIGHUP,
}

// kill sends a signal to processes: "kill [-SIGNAL | -s SIGNAL] PID…".
func kill(_ context.Context, args []string, _, stderr io.Writer) int {
	sig := syscall.SIGTERM
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		name := strings.TrimPrefix(args[0], "-")
		args = args[1:]
		if name == "s" {
			if len(args) == 0 {
				fmt.Fprintln(stderr, "kill: -s: option requires an argument")
				return 2
			}
			name, args = args[0], args[1:]
		}
		s, ok := signals[strings.TrimPrefix(strings.ToUpper(name), "SIG")]
		if !ok {
			fmt.Fprintf(stderr, "kill: unknown signal %s\n", name)
			return 2
		}
		sig = s
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: kill [-SIGNAL] PID…")
		return 2
	}
	code := 0
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			fmt.Fprintf(stderr, "kill: %s: not a process id\n", a)
			code = 1
			continue
		}
		if err := syscall.Kill(pid, sig); err != nil {
			fmt.Fprintf(stderr, "kill: (%d): %v\n", pid, err)
			code = 1
		}
	}
	return code
}
