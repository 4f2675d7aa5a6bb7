package server

import (
	"context"
	"net"
	"syscall"
)

// A page goes out in two writes: net/http's 4 KiB buffer with the header
// and the page's start, then the rest. Corking the connection for the
// page (as nginx's tcp_nopush does) sends both in one segment, so the
// reader wakes once per page instead of twice (corkPage, where the platform
// has TCP_CORK).

type rawConnKey struct{}

// withRawConn keeps a TCP connection's raw descriptor in the contexts of its
// requests (http.Server.ConnContext).
func withRawConn(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			return context.WithValue(ctx, rawConnKey{}, rc)
		}
	}
	return ctx
}

func rawConnOf(ctx context.Context) syscall.RawConn {
	rc, _ := ctx.Value(rawConnKey{}).(syscall.RawConn)
	return rc
}
