package relay

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// The multiplexed relay carries many TCP connections over one pair of
// standard streams, so that the grader runs one exec per grading network
// instead of one per connection. Each frame is a 9-byte header (type,
// big-endian stream id, big-endian payload length) and its payload.
const (
	FrameOpen       byte = 1 // grader → relay: connect stream id to the address in the payload
	FrameOpened     byte = 2 // relay → grader: connected
	FrameFailed     byte = 3 // relay → grader: could not connect; the payload says why
	FrameData       byte = 4 // either way: bytes of the stream
	FrameCloseWrite byte = 5 // either way: no more bytes from this side
	FrameClose      byte = 6 // either way: the stream is over
)

// MaxPayload bounds one frame's payload; a longer one ends the relay.
const MaxPayload = 64 << 10

// Frame is one unit of the multiplexed stream.
type Frame struct {
	Type    byte
	Stream  uint32
	Payload []byte
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (Frame, error) {
	var h [9]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{Type: h[0], Stream: binary.BigEndian.Uint32(h[1:5])}
	n := binary.BigEndian.Uint32(h[5:9])
	if n > MaxPayload {
		return Frame{}, fmt.Errorf("relay frame of %d bytes; at most %d", n, MaxPayload)
	}
	if n > 0 {
		f.Payload = make([]byte, n)
		if _, err := io.ReadFull(r, f.Payload); err != nil {
			return Frame{}, err
		}
	}
	return f, nil
}

// AppendFrame appends the encoding of a frame to b.
func AppendFrame(b []byte, typ byte, stream uint32, payload []byte) []byte {
	b = append(b, typ)
	b = binary.BigEndian.AppendUint32(b, stream)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

// MuxMain is the multiplexed relay's entry point: relay-mux.
func MuxMain(args []string) int {
	if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "usage: relay-mux (frames on standard input and output)")
		return 2
	}
	if err := Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// Serve relays the streams that frames on in open, until in ends.
func Serve(in io.Reader, out io.Writer) error {
	m := &mux{out: out, conns: map[uint32]net.Conn{}}
	r := bufio.NewReaderSize(in, 64<<10)
	defer m.closeAll()
	for {
		f, err := ReadFrame(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch f.Type {
		case FrameOpen:
			go m.open(f.Stream, string(f.Payload))
		case FrameData:
			if c := m.conn(f.Stream); c != nil {
				_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write(f.Payload); err != nil {
					m.drop(f.Stream)
					_ = m.send(FrameClose, f.Stream, nil)
				}
			}
		case FrameCloseWrite:
			if tc, ok := m.conn(f.Stream).(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		case FrameClose:
			m.drop(f.Stream)
		}
	}
}

type mux struct {
	wmu sync.Mutex
	out io.Writer

	mu    sync.Mutex
	conns map[uint32]net.Conn
}

func (m *mux) send(typ byte, stream uint32, payload []byte) error {
	b := AppendFrame(make([]byte, 0, 9+len(payload)), typ, stream, payload)
	m.wmu.Lock()
	defer m.wmu.Unlock()
	_, err := m.out.Write(b)
	return err
}

func (m *mux) conn(id uint32) net.Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conns[id]
}

func (m *mux) drop(id uint32) {
	m.mu.Lock()
	c := m.conns[id]
	delete(m.conns, id)
	m.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

func (m *mux) closeAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, c := range m.conns {
		c.Close()
		delete(m.conns, id)
	}
}

// open connects one stream and copies what the remote end sends into
// frames until it closes.
func (m *mux) open(id uint32, addr string) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		_ = m.send(FrameFailed, id, []byte(fmt.Sprintf("relay: %q is not HOST:PORT", addr)))
		return
	}
	c, err := net.DialTimeout("tcp", addr, DialTimeout)
	if err != nil {
		_ = m.send(FrameFailed, id, []byte(err.Error()))
		return
	}
	m.mu.Lock()
	m.conns[id] = c
	m.mu.Unlock()
	if err := m.send(FrameOpened, id, nil); err != nil {
		m.drop(id)
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if m.send(FrameData, id, buf[:n]) != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = m.send(FrameClose, id, nil)
	m.drop(id)
}
