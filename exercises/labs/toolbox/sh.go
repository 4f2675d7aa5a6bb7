// Package toolbox is the small shell, curl and wget of the lab images, so
// that CMD-SHELL health checks run as they do on ECS, in an image that holds
// nothing but one static binary. The shell is mvdan.cc/sh; the commands it
// can run are the ones below, implemented in Go. Anything else is "command
// not found", as it would be in a minimal image.
package toolbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// command is a program the shell can run: it gets its arguments (without its
// own name) and the shell's standard streams, and returns an exit code.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// commands lists what the shell finds on its PATH. Builtins of the shell
// itself (echo, test, exit, true, false…) need no entry.
var commands = map[string]command{
	"curl": curl,
	"wget": wget,
	"kill": kill,
}

// Sh is the shell: "sh -c COMMAND [NAME [ARG…]]", "sh FILE" or a script on
// standard input.
func Sh(args []string) int {
	return runShell(context.Background(), args, os.Stdin, os.Stdout, os.Stderr)
}

func runShell(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var src io.Reader = stdin
	name := "sh"
	var params []string
	switch {
	case len(args) >= 1 && args[0] == "-c":
		if len(args) < 2 {
			fmt.Fprintln(stderr, "sh: -c: option requires an argument")
			return 2
		}
		src = strings.NewReader(args[1])
		if len(args) > 2 {
			name, params = args[2], args[3:]
		}
	case len(args) >= 1:
		f, err := os.Open(args[0])
		if err != nil {
			fmt.Fprintf(stderr, "sh: cannot open %s: %v\n", args[0], err)
			return 127
		}
		defer f.Close()
		src, name, params = f, args[0], args[1:]
	}
	file, err := syntax.NewParser().Parse(src, name)
	if err != nil {
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 2
	}
	r, err := interp.New(
		interp.StdIO(stdin, stdout, stderr),
		interp.Params(append([]string{"--"}, params...)...),
		interp.ExecHandlers(execHandler),
	)
	if err != nil {
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 2
	}
	err = r.Run(ctx, file)
	if err == nil {
		return 0
	}
	if code, ok := interp.IsExitStatus(err); ok {
		return int(code)
	}
	fmt.Fprintf(stderr, "sh: %v\n", err)
	return 1
}

// execHandler runs the toolbox's commands in-process; it never starts
// another program, since the image has none.
func execHandler(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
	return func(ctx context.Context, args []string) error {
		hc := interp.HandlerCtx(ctx)
		name := path.Base(args[0])
		cmd, ok := commands[name]
		if !ok {
			fmt.Fprintf(hc.Stderr, "sh: %s: command not found\n", args[0])
			return interp.ExitStatus(127)
		}
		if code := cmd(ctx, args[1:], hc.Stdout, hc.Stderr); code != 0 {
			return interp.ExitStatus(uint8(code))
		}
		return nil
	}
}

// Curl is curl called directly (as /bin/curl or in a CMD health check).
func Curl(args []string) int { return curl(context.Background(), args, os.Stdout, os.Stderr) }

// Wget is wget called directly.
func Wget(args []string) int { return wget(context.Background(), args, os.Stdout, os.Stderr) }

// errUsage marks a command line the tool does not understand.
var errUsage = errors.New("usage")
