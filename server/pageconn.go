package server

import (
	"context"
	"net"
	"sync"
)

// A page goes out in two writes: net/http's 4 KiB buffer with the header
// and the page's start, then the rest. Sent as they come, they leave as two
// segments and the reader wakes twice per page; corking the socket
// (TCP_CORK, as nginx's tcp_nopush does) joins them at the price of two
// more system calls per page. A pageConn joins them in user space instead:
// while a page is held, its writes are gathered and leave in one write.

// WrapListener returns ln with its TCP connections able to send a page in
// one write. Serve lesson pages through it; everything else works as
// before, and connections of other kinds pass through unchanged.
func WrapListener(ln net.Listener) net.Listener { return pageListener{ln} }

type pageListener struct{ net.Listener }

func (l pageListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return &pageConn{TCPConn: tc}, nil
	}
	return c, err
}

// pageConn is a TCP connection that can hold its writes. net/http writes to
// a connection only from the goroutine serving its request, the one that
// holds and releases, so holding needs no lock.
type pageConn struct {
	*net.TCPConn
	held *[]byte // nil unless a page is held
}

// pageBufs keeps the gathering buffers between pages, so that an idle
// connection holds none.
var pageBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (c *pageConn) Write(p []byte) (int, error) {
	if c.held == nil {
		return c.TCPConn.Write(p)
	}
	// net/http reuses its buffer once Write returns: copy.
	*c.held = append(*c.held, p...)
	return len(p), nil
}

func (c *pageConn) hold() {
	if c.held == nil {
		c.held = pageBufs.Get().(*[]byte)
	}
}

// release sends what was held in one write. net/http was told the held
// writes succeeded, so a failure closes the connection: its next read or
// write fails and the connection is not reused.
func (c *pageConn) release() {
	b := c.held
	if b == nil {
		return
	}
	c.held = nil
	if len(*b) > 0 {
		if _, err := c.TCPConn.Write(*b); err != nil {
			_ = c.TCPConn.Close()
		}
	}
	if cap(*b) <= 1<<20 { // one huge page does not pin its buffer
		*b = (*b)[:0]
		pageBufs.Put(b)
	}
}

type pageConnKey struct{}

// withPageConn keeps the request's pageConn in its context
// (http.Server.ConnContext).
func withPageConn(ctx context.Context, c net.Conn) context.Context {
	if pc, ok := c.(*pageConn); ok {
		return context.WithValue(ctx, pageConnKey{}, pc)
	}
	return ctx
}

func pageConnOf(ctx context.Context) *pageConn {
	pc, _ := ctx.Value(pageConnKey{}).(*pageConn)
	return pc
}
