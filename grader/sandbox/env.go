// Package sandbox runs the containers of a grading on a Docker engine through
// testcontainers-go, with the limits every grading container gets: internal
// networks only, CPU, memory and pids limits, no capabilities, no new
// privileges, a read-only root, and removal when the grading ends.
package sandbox

import (
	"os"

	tclog "github.com/testcontainers/testcontainers-go/log"
)

// The project removes its own containers by label, so testcontainers' reaper
// (which would need an image pulled from a registry) stays off, and the engine
// is addressed on loopback rather than at the machine's gateway. These are set
// here, before testcontainers first reads its configuration, so that no shell
// profile is needed.
func init() {
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	tclog.SetDefault(tclog.NewNoopLogger())
}
