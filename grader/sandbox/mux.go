package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"coldstart/exercises/labs/relay"
)

// maxUnread bounds what one relayed stream may hold unread in the grader:
// a lab container that floods its connection is cut off, not buffered.
const maxUnread = 4 << 20

// muxClient is the grader's end of a multiplexed relay: many connections
// as streams of frames over one exec's standard streams.
type muxClient struct {
	wmu   sync.Mutex
	w     io.Writer
	close func()
	// why says what the relay printed on standard error, once it ended.
	why func() string

	mu      sync.Mutex
	next    uint32
	streams map[uint32]*muxConn
	dead    error
}

func newMuxClient(r io.Reader, w io.Writer, closeFn func(), why func() string) *muxClient {
	c := &muxClient{w: w, close: closeFn, why: why, streams: map[uint32]*muxConn{}}
	go c.readLoop(r)
	return c
}

func (c *muxClient) send(typ byte, stream uint32, payload []byte) error {
	b := relay.AppendFrame(make([]byte, 0, 9+len(payload)), typ, stream, payload)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	return nil
}

// alive reports whether the relay still carries streams.
func (c *muxClient) alive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead == nil
}

func (c *muxClient) dial(ctx context.Context, addr string) (net.Conn, error) {
	c.mu.Lock()
	if c.dead != nil {
		err := c.dead
		c.mu.Unlock()
		return nil, err
	}
	c.next++
	s := &muxConn{c: c, id: c.next, addr: addr, opened: make(chan error, 1), notify: make(chan struct{})}
	c.streams[s.id] = s
	c.mu.Unlock()
	if err := c.send(relay.FrameOpen, s.id, []byte(addr)); err != nil {
		c.remove(s.id)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: err}
	}
	select {
	case err := <-s.opened:
		if err != nil {
			c.remove(s.id)
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: err}
		}
		return s, nil
	case <-ctx.Done():
		_ = c.send(relay.FrameClose, s.id, nil)
		c.remove(s.id)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
	}
}

func (c *muxClient) stream(id uint32) *muxConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

func (c *muxClient) remove(id uint32) {
	c.mu.Lock()
	delete(c.streams, id)
	c.mu.Unlock()
}

func (c *muxClient) readLoop(r io.Reader) {
	for {
		f, err := relay.ReadFrame(r)
		if err != nil {
			c.fail(err)
			return
		}
		s := c.stream(f.Stream)
		if s == nil {
			continue
		}
		switch f.Type {
		case relay.FrameOpened:
			s.opened <- nil
		case relay.FrameFailed:
			s.opened <- errors.New("relay: " + string(f.Payload))
		case relay.FrameData:
			if !s.push(f.Payload) {
				_ = c.send(relay.FrameClose, s.id, nil)
				c.remove(s.id)
			}
		case relay.FrameClose:
			s.end(io.EOF)
			c.remove(s.id)
		}
	}
}

// fail ends the relay and every stream on it.
func (c *muxClient) fail(err error) {
	why := c.why()
	if why != "" {
		err = fmt.Errorf("the relay into the grading network ended: %s", why)
	} else {
		err = fmt.Errorf("the relay into the grading network ended: %w", err)
	}
	c.mu.Lock()
	c.dead = err
	streams := c.streams
	c.streams = map[uint32]*muxConn{}
	c.mu.Unlock()
	for _, s := range streams {
		select {
		case s.opened <- err:
		default:
		}
		s.end(err)
	}
	c.close()
}

// muxConn is one relayed connection.
type muxConn struct {
	c      *muxClient
	id     uint32
	addr   string
	opened chan error

	mu       sync.Mutex
	unread   [][]byte
	size     int
	err      error // what Read returns once unread is empty
	closed   bool
	deadline time.Time
	notify   chan struct{} // closed and replaced on every change
}

func (s *muxConn) changedLocked() {
	close(s.notify)
	s.notify = make(chan struct{})
}

// push queues bytes from the remote end; false when too much is unread.
func (s *muxConn) push(p []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.err != nil {
		return true
	}
	if s.size+len(p) > maxUnread {
		s.err = fmt.Errorf("relay: %s sent more than %d MiB that was not read", s.addr, maxUnread>>20)
		s.changedLocked()
		return false
	}
	s.unread = append(s.unread, p)
	s.size += len(p)
	s.changedLocked()
	return true
}

func (s *muxConn) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.changedLocked()
}

func (s *muxConn) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		switch {
		case s.closed:
			s.mu.Unlock()
			return 0, net.ErrClosed
		case len(s.unread) > 0:
			n := copy(p, s.unread[0])
			if n == len(s.unread[0]) {
				s.unread = s.unread[1:]
			} else {
				s.unread[0] = s.unread[0][n:]
			}
			s.size -= n
			s.mu.Unlock()
			return n, nil
		case s.err != nil:
			err := s.err
			s.mu.Unlock()
			return 0, err
		}
		ch, dl := s.notify, s.deadline
		s.mu.Unlock()
		if dl.IsZero() {
			<-ch
			continue
		}
		d := time.Until(dl)
		if d <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		select {
		case <-ch:
			t.Stop()
		case <-t.C:
			return 0, os.ErrDeadlineExceeded
		}
	}
}

func (s *muxConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		s.mu.Lock()
		closed, err := s.closed, s.err
		s.mu.Unlock()
		if closed {
			return written, net.ErrClosed
		}
		if err != nil && err != io.EOF {
			return written, err
		}
		n := min(len(p), 32<<10)
		if err := s.c.send(relay.FrameData, s.id, p[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

func (s *muxConn) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.changedLocked()
	s.mu.Unlock()
	s.c.remove(s.id)
	_ = s.c.send(relay.FrameClose, s.id, nil)
	return nil
}

// CloseWrite tells the remote end that no more bytes come.
func (s *muxConn) CloseWrite() error { return s.c.send(relay.FrameCloseWrite, s.id, nil) }

func (s *muxConn) LocalAddr() net.Addr  { return relayAddr("grader") }
func (s *muxConn) RemoteAddr() net.Addr { return relayAddr(s.addr) }

func (s *muxConn) SetDeadline(t time.Time) error { return s.SetReadDeadline(t) }
func (s *muxConn) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.deadline = t
	s.changedLocked()
	s.mu.Unlock()
	return nil
}

// SetWriteDeadline is accepted and not enforced: writes go to the engine's
// connection, which ends when the grading does.
func (s *muxConn) SetWriteDeadline(time.Time) error { return nil }
