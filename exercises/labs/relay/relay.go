// Package relay is the lab program that carries one TCP connection between
// its standard streams and an address inside a grading network. The grader
// runs it with docker exec in a helper container on that network, so it
// reaches lab containers over the Docker API alone, as kubectl port-forward
// does over the Kubernetes API: the grading network needs no route to the
// grader, and the host needs no address on it.
package relay

import (
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// Ready is the byte the relay writes first on standard output once it has
// connected; what follows is the connection's data. When it cannot connect
// it writes the reason on standard error and exits 1 without writing Ready.
const Ready = 0x06

// DialTimeout bounds the connection attempt.
const DialTimeout = 3 * time.Second

// Main is the relay's entry point: relay HOST:PORT.
func Main(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: relay HOST:PORT")
		return 2
	}
	return Run(args[0], os.Stdin, os.Stdout, os.Stderr)
}

// Run relays between in/out and addr until the remote end closes.
func Run(addr string, in io.Reader, out, errw io.Writer) int {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		fmt.Fprintf(errw, "relay: %q is not HOST:PORT\n", addr)
		return 2
	}
	conn, err := net.DialTimeout("tcp", addr, DialTimeout)
	if err != nil {
		fmt.Fprintf(errw, "%v\n", err)
		return 1
	}
	defer conn.Close()
	if _, err := out.Write([]byte{Ready}); err != nil {
		return 1
	}
	go func() {
		_, _ = io.Copy(conn, in)
		// The grader closed its side: the remote end reads EOF, as it would
		// from a client that half-closes.
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	// The relay ends when the remote end closes; whatever the grader still
	// sends then has nowhere to go.
	_, _ = io.Copy(out, conn)
	return 0
}
