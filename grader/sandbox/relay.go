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

// relayHost is the helper container of one network, started on first use.
type relayHost struct {
	once sync.Once
	c    *Container
	err  error
}

// Dialer returns a dial function that reaches addresses inside nw: each
// connection is a stream of the relay exec'd once in a helper container on
// nw, whose standard streams the Docker API carries. Nothing dials a container's address
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
		began := time.Now()
		mux, err := sc.relay(ctx, nw)
		if err != nil {
			reportRelayDial(began, err)
			return nil, err
		}
		conn, err := mux.dial(ctx, addr)
		reportRelayDial(began, err)
		return conn, err
	}
}

// Transport is an HTTP transport whose connections go through the relay of
// nw. Keep-alives stay off: every request is its own connection, as the
// probes of a platform are.
func (sc *Scope) Transport(nw *Network) *http.Transport {
	return &http.Transport{Proxy: nil, DialContext: sc.Dialer(nw), DisableKeepAlives: true, DisableCompression: true}
}

// WarmRelay starts the relay into nw in the background, so that its
// container starts while the grading starts its own.
func (sc *Scope) WarmRelay(ctx context.Context, nw *Network) {
	go func() { _, _ = sc.relay(ctx, nw) }()
}

// relay returns the running relay into nw, starting its container and its
// exec when needed.
func (sc *Scope) relay(ctx context.Context, nw *Network) (*muxClient, error) {
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
	if h.err != nil {
		return nil, h.err
	}
	return h.c.relay(ctx)
}

// Dialer returns a dial function that reaches addresses on c's networks
// through a relay exec'd in c itself: for a container of the grader's own
// (a simulator), which then needs no helper container beside it.
func (c *Container) Dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network != "tcp" && network != "tcp4" {
			return nil, fmt.Errorf("the relay carries TCP only, not %s", network)
		}
		if err := validAddr(addr); err != nil {
			return nil, err
		}
		began := time.Now()
		mux, err := c.relay(ctx)
		if err != nil {
			reportRelayDial(began, err)
			return nil, err
		}
		conn, err := mux.dial(ctx, addr)
		reportRelayDial(began, err)
		return conn, err
	}
}

// Transport is an HTTP transport whose connections go through a relay in c.
func (c *Container) Transport() *http.Transport {
	return &http.Transport{Proxy: nil, DialContext: c.Dialer(), DisableKeepAlives: true, DisableCompression: true}
}

// relay returns the relay running in c, starting it again if it ended.
func (c *Container) relay(ctx context.Context) (*muxClient, error) {
	c.muxMu.Lock()
	defer c.muxMu.Unlock()
	if c.mux != nil && c.mux.alive() {
		return c.mux, nil
	}
	mux, err := c.startMux(ctx)
	if err != nil {
		return nil, err
	}
	c.mux = mux
	return mux, nil
}

// startMux execs the multiplexed relay in c.
func (c *Container) startMux(ctx context.Context) (*muxClient, error) {
	ex, err := c.sb.docker.ExecCreate(ctx, c.ID, client.ExecCreateOptions{Cmd: []string{"/lab", "relay-mux"},
		AttachStdin: true, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return nil, fmt.Errorf("the relay into the grading network: the engine refused the exec: %w", err)
	}
	att, err := c.sb.docker.ExecAttach(context.WithoutCancel(ctx), ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("the relay into the grading network: the engine refused to attach: %w", err)
	}
	d := &demux{src: att.Reader}
	return newMuxClient(d, att.Conn, att.Close, func() string { return strings.TrimSpace(d.stderr.String()) }), nil
}

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
