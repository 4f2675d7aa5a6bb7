// Package labs holds the small programs that exercises run in containers.
// They are compiled into one static binary, "lab", that picks its program
// from the name it is called by (sh, curl, wget) or from its first argument
// (lab api-worker …), and packed into a FROM scratch image.
package labs

import (
	"os"
	"path/filepath"
	"runtime"
)

// BinaryEnv names the environment variable that points at a prebuilt lab
// binary (the server's container image ships one).
const BinaryEnv = "COLDSTART_LAB_BINARY"

// Package is the import path of the lab program's main package.
const Package = "./exercises/labs/cmd/lab"

// SourceRoot returns the module directory this program was built from, when
// its sources are still on disk, so that the lab binary can be compiled from
// them.
func SourceRoot() (string, bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", false
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", false
	}
	return root, true
}
