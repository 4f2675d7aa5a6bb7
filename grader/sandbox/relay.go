package sandbox

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// relayName is the container that carries the grader's connections into a
// network. Its name is not a valid ECS container name prefix a student would
// pick by chance, and it never answers on any port itself.
const relayName = "coldstart-relay"

// relayReady matches exercises/labs/relay.Ready.
const relayReady = 0x06

// relayHost is the helper container of one network, started on first use.
type relayHost struct {
	once sync.Once
	c    *Container
	err  error
}

// Dialer returns a dial function that reaches addresses inside nw: each
// connection is a relay exec'd in a helper container on nw, its standard
// streams carried by the Docker API. Nothing dials a container's address
// from the grader, so grading works the same from the host, from inside a
// container with the socket mounted, or against a remote engine.
func (sc *Scope) Dialer(nw *Network) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network != "tcp" && network != "tcp4" {
			return nil, fmt.Errorf("the relay carries TCP only, not %s", network)
		}
		if err := validAddr(addr); err != nil {
			return nil, err
		}
		host, err := sc.relayHost(ctx, nw)
		if err != nil {
			return nil, err
		}
		return host.dial(ctx, addr)
	}
}

// Transport is an HTTP transport whose connections go through the relay of
// nw. Keep-alives stay off: every request is its own connection, as the
// probes of a platform are.
func (sc *Scope) Transport(nw *Network) *http.Transport {
	return &http.Transport{Proxy: nil, DialContext: sc.Dialer(nw), DisableKeepAlives: true, DisableCompression: true}
}

func (sc *Scope) relayHost(ctx context.Context, nw *Network) (*Container, error) {
	sc.mu.Lock()
	h := sc.relays[nw.Name]
	if h == nil {
		h = &relayHost{}
		sc.relays[nw.Name] = h
	}
	sc.mu.Unlock()
	h.once.Do(func() {
		h.c, h.err = sc.Start(context.WithoutCancel(ctx), ContainerSpec{Name: relayName, Cmd: []string{"pause"}, Networks: []string{nw.Name}, MemoryMB: 32})
		if h.err != nil {
			h.err = fmt.Errorf("the relay into the grading network could not start: %w", h.err)
		}
	})
	return h.c, h.err
}

// dial runs one relay to addr in c.
func (c *Container) dial(ctx context.Context, addr string) (net.Conn, error) {
	ex, err := c.sb.docker.ExecCreate(ctx, c.ID, client.ExecCreateOptions{Cmd: []string{"/lab", "relay", addr},
		AttachStdin: true, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return nil, fmt.Errorf("relay to %s: the engine refused the exec: %w", addr, err)
	}
	att, err := c.sb.docker.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("relay to %s: the engine refused to attach: %w", addr, err)
	}
	rc := &relayConn{att: att, addr: addr, r: &demux{src: att.Reader}}
	// The first byte says whether the relay connected.
	type first struct {
		b   byte
		err error
	}
	got := make(chan first, 1)
	go func() {
		var b [1]byte
		_, err := io.ReadFull(rc.r, b[:])
		got <- first{b[0], err}
	}()
	select {
	case f := <-got:
		if f.err != nil || f.b != relayReady {
			att.Close()
			why := strings.TrimSpace(rc.r.stderr.String())
			if why == "" {
				why = fmt.Sprintf("the relay ended without connecting (%v)", f.err)
			}
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("relay: " + why)}
		}
	case <-ctx.Done():
		att.Close()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
	}
	return rc, nil
}

// relayConn is one connection carried by an exec's standard streams.
type relayConn struct {
	att  client.ExecAttachResult
	addr string
	r    *demux
}

func (c *relayConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *relayConn) Write(p []byte) (int, error) { return c.att.Conn.Write(p) }
func (c *relayConn) Close() error {
	c.att.Close()
	return nil
}

// CloseWrite ends the relay's standard input: the remote end reads EOF.
func (c *relayConn) CloseWrite() error                  { return c.att.CloseWrite() }
func (c *relayConn) LocalAddr() net.Addr                { return relayAddr("grader") }
func (c *relayConn) RemoteAddr() net.Addr               { return relayAddr(c.addr) }
func (c *relayConn) SetDeadline(t time.Time) error      { return c.att.Conn.SetDeadline(t) }
func (c *relayConn) SetReadDeadline(t time.Time) error  { return c.att.Conn.SetReadDeadline(t) }
func (c *relayConn) SetWriteDeadline(t time.Time) error { return c.att.Conn.SetWriteDeadline(t) }

type relayAddr string

func (a relayAddr) Network() string { return "relay" }
func (a relayAddr) String() string  { return string(a) }

// demux reads the engine's multiplexed exec stream: frames of an 8-byte
// header (stream, 0, 0, 0, big-endian length) and a payload. Standard
// output is the connection's data; standard error, the relay's reason for
// failing, is kept aside (bounded).
type demux struct {
	src    io.Reader
	left   int // payload bytes of the current stdout frame not yet read
	stderr bytes.Buffer
}

func (d *demux) Read(p []byte) (int, error) {
	for d.left == 0 {
		var h [8]byte
		if _, err := io.ReadFull(d.src, h[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			return 0, err
		}
		n := int(binary.BigEndian.Uint32(h[4:]))
		switch h[0] {
		case 1:
			d.left = n
		default:
			var buf bytes.Buffer
			if _, err := io.CopyN(&buf, d.src, int64(n)); err != nil {
				return 0, io.EOF
			}
			if d.stderr.Len() < 4096 {
				d.stderr.Write(buf.Bytes())
			}
		}
	}
	if len(p) > d.left {
		p = p[:d.left]
	}
	n, err := d.src.Read(p)
	d.left -= n
	if err == io.EOF && d.left > 0 {
		err = io.ErrUnexpectedEOF
	} else if err == io.EOF {
		err = nil
	}
	return n, err
}
