package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealthcheck asks the server on this host whether it is alive: GET
// /healthz on loopback, exit 0 on 200, 1 otherwise. The image is FROM
// scratch, with no shell or curl for a HEALTHCHECK to call, so the binary
// checks itself.
func runHealthcheck(ctx context.Context, args []string, s Streams) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(s.Stderr)
	addr := fs.String("addr", env("COLDSTART_ADDR", ":8080"), "the address the server listens on (COLDSTART_ADDR); a wildcard host is reached on loopback")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(s.Stderr, "healthcheck takes no arguments, got %q\n", fs.Args())
		return errUsage
	}
	url, err := healthURL(*addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	fmt.Fprintf(s.Stdout, "ok: %s\n", url)
	return nil
}

// healthURL turns a listen address into the loopback URL of /healthz:
// ":8080" and "0.0.0.0:8080" become 127.0.0.1:8080, "[::]:8080" [::1]:8080.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q is not host:port: %w", addr, err)
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("--addr %q has no port to check", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
