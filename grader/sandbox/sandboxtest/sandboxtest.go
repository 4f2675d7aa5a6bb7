// Package sandboxtest gives tests a real sandbox on the local Docker engine.
package sandboxtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"coldstart/grader/sandbox"
)

// SkipEnv is the explicit opt-out for machines without Docker. CI never sets it.
const SkipEnv = "COLDSTART_SKIP_DOCKER_TESTS"

// New returns a sandbox with a fresh instance name, and checks when the test
// ends that nothing it created was left behind. Without a reachable Docker
// engine the test fails with a clear message, unless SkipEnv is set.
func New(tb testing.TB) *sandbox.Sandbox {
	tb.Helper()
	return NewOn(tb, os.Getenv("DOCKER_HOST"))
}

// NewOn is New on the engine at host.
func NewOn(tb testing.TB, host string) *sandbox.Sandbox {
	tb.Helper()
	if os.Getenv(SkipEnv) != "" {
		tb.Skipf("%s is set: skipping a test that runs containers", SkipEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	sb, err := sandbox.New(sandbox.Options{Host: host, Instance: "test-" + hex.EncodeToString(b[:])})
	if err == nil {
		err = sb.Ping(ctx)
	}
	if err != nil {
		tb.Fatalf("this test runs containers and needs a reachable Docker engine (set %s=1 to skip such tests): %v", SkipEnv, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		n, err := sb.Leftovers(ctx)
		if err != nil {
			tb.Errorf("count leftovers: %v", err)
		} else if n > 0 {
			tb.Errorf("%d containers or networks were left behind", n)
		}
		_, _ = sb.Sweep(ctx)
		sb.Close()
	})
	return sb
}
