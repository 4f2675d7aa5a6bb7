package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"coldstart/grader/sandbox"
)

const labsUsage = `Usage: coldstart labs build [--force]

Compiles the lab programs into one static binary and packs it into the lab
image (FROM scratch), tagged with a hash of the binary. An image with the same
hash is reused unless --force is given. Nothing is pulled from a registry.
`

func runLabs(ctx context.Context, args []string, s Streams) error {
	if len(args) == 0 || args[0] != "build" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(s.Stdout, labsUsage)
			return flag.ErrHelp
		}
		fmt.Fprint(s.Stderr, labsUsage)
		return errUsage
	}
	fl := flag.NewFlagSet("labs build", flag.ContinueOnError)
	fl.SetOutput(s.Stderr)
	fl.Usage = func() { fmt.Fprint(s.Stderr, labsUsage) }
	force := fl.Bool("force", false, "pack the image even if one with the same hash exists")
	rest, err := parseInterspersed(fl, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		fmt.Fprint(s.Stderr, labsUsage)
		return errUsage
	}
	sb, err := sandbox.New(sandbox.Options{Host: dockerHost(""), Instance: "labs-" + randomHex(4)})
	if err != nil {
		return err
	}
	defer sb.Close()
	if err := sb.Ping(ctx); err != nil {
		return fmt.Errorf("the lab image is built on the Docker engine, which did not answer: %w", err)
	}
	began := time.Now()
	b, err := sb.BuildLabImage(ctx, *force)
	if err != nil {
		return err
	}
	total := time.Since(began)
	if b.Built {
		fmt.Fprintf(s.Stdout, "%s built in %s (compile %s, pack %s)\n", b.Image, round(total), round(b.Compile), round(b.Pack))
	} else {
		fmt.Fprintf(s.Stdout, "%s is up to date (compile %s; the image already existed)\n", b.Image, round(b.Compile))
	}
	return nil
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
