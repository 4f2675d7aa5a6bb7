// Package pause is a lab that does nothing until it is stopped: it holds a
// network address, like an ENI with nothing behind it.
package pause

import (
	"os"
	"os/signal"
	"syscall"
)

// Main waits for SIGTERM or SIGINT and exits 0.
func Main(args []string) int {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
	return 0
}
