// Command coldstart is the Coldstart course server and its tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usageText = `coldstart — a self-hosted course on serverless containers

Usage:
  coldstart serve [--addr 127.0.0.1:8080] [--db coldstart.db] [--course DIR] [--watch] [--workers N] [--nats-listen ADDR]
  coldstart grader --nats URL [--nats-token T] [--workers N] [--name NAME] [--addr 127.0.0.1:8090]
  coldstart grade --exercise ID [--seed N] [--course DIR] FILE|-
  coldstart check [DIR]
  coldstart init DIR
  coldstart labs build [--force]
  coldstart backup [--db coldstart.db] OUT
  coldstart restore [--db coldstart.db] IN
  coldstart healthcheck [--addr :8080]
  coldstart users add --email E [--role student|instructor|admin] [--group G] [--db coldstart.db]

Run "coldstart COMMAND -h" for the flags of a command.
`

// Streams are the standard streams a command uses.
type Streams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], Streams{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// errUsage marks a command line that could not be understood; the usage was
// already printed.
var errUsage = errors.New("usage")

// Run runs one command and returns the process exit code.
func Run(ctx context.Context, args []string, s Streams) int {
	if len(args) == 0 {
		fmt.Fprint(s.Stderr, usageText)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], s)
	case "grade":
		err = runGrade(ctx, args[1:], s)
	case "grader":
		err = runGrader(ctx, args[1:], s)
	case "check":
		err = runCheck(ctx, args[1:], s)
	case "init":
		err = runInit(ctx, args[1:], s)
	case "labs":
		err = runLabs(ctx, args[1:], s)
	case "backup":
		err = runBackup(ctx, args[1:], s)
	case "restore":
		err = runRestore(ctx, args[1:], s)
	case "healthcheck":
		err = runHealthcheck(ctx, args[1:], s)
	case "users":
		err = runUsers(ctx, args[1:], s)
	case "help", "-h", "--help":
		fmt.Fprint(s.Stdout, usageText)
		return 0
	default:
		fmt.Fprintf(s.Stderr, "coldstart: unknown command %q\n\n%s", args[0], usageText)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(s.Stderr, "coldstart %s: %v\n", args[0], err)
		return 1
	}
}
