package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sshPlaceholderHost is the host HTTP requests name when the connection is
// an ssh process: the requests never resolve it, the dialer ignores it.
const sshPlaceholderHost = "http://docker.example.com"

// SSHConnectTimeout bounds how long ssh may take to reach the engine's
// machine: a grading has a minute at most, and an operator should hear
// soon that the machine does not answer.
const SSHConnectTimeout = 10 * time.Second

// sshEngine is an engine reached as the docker command reaches an ssh://
// host: every connection is an ssh process that runs `docker system
// dial-stdio` on the engine's machine, whose standard input and output
// carry the connection to the engine's socket there. ssh reads the user's
// own configuration, keys and known hosts, so the engine's machine is
// trusted exactly as for `ssh user@host`.
type sshEngine struct {
	user, host, port string
	// socket is the engine's socket on that machine; empty: its default.
	socket string
}

// parseSSHHost reads ssh://[user@]host[:port][/path/to/docker.sock].
func parseSSHHost(raw string) (*sshEngine, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the Docker host %q is not a URL such as ssh://user@host", raw)
	}
	e := &sshEngine{host: u.Hostname(), port: u.Port()}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return nil, fmt.Errorf("the Docker host %q carries a password; ssh:// engines sign in with the keys ssh itself uses, so drop it from the URL", redactedHost(u))
		}
		e.user = u.User.Username()
	}
	switch {
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("the Docker host %q has a query or fragment, which ssh:// engines do not take", raw)
	case e.host == "" || strings.HasPrefix(e.host, "-") || strings.ContainsAny(e.host, " \t\n'\"\\"):
		return nil, fmt.Errorf("the Docker host %q names no machine to reach over ssh", raw)
	case e.user != "" && (strings.HasPrefix(e.user, "-") || strings.ContainsAny(e.user, " \t\n'\"\\@:/")):
		return nil, fmt.Errorf("the Docker host %q has a user name ssh cannot take", raw)
	}
	if e.port != "" {
		if p, err := strconv.Atoi(e.port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("the Docker host %q has port %q; a port is 1-65535", raw, e.port)
		}
	}
	if p := strings.TrimRight(u.Path, "/"); p != "" {
		// The path is handed to docker on the far side, through its shell.
		if strings.ContainsAny(p, " \t\n'\"\\$`;&|<>*?()") {
			return nil, fmt.Errorf("the Docker host %q has a socket path with characters the remote shell would read", raw)
		}
		e.socket = p
	}
	return e, nil
}

func redactedHost(u *url.URL) string {
	c := *u
	c.User = url.User(u.User.Username())
	return c.String()
}

// args returns the ssh command line, as the docker command builds it.
// BatchMode keeps ssh from asking for a password or a host key decision on
// a terminal a server does not have: it fails and says why instead.
func (e *sshEngine) args() []string {
	args := []string{"-o", "ConnectTimeout=" + strconv.Itoa(int(SSHConnectTimeout/time.Second)), "-o", "BatchMode=yes", "-T"}
	if e.user != "" {
		args = append(args, "-l", e.user)
	}
	if e.port != "" {
		args = append(args, "-p", e.port)
	}
	args = append(args, "--", e.host, "docker")
	if e.socket != "" {
		args = append(args, "--host=unix://"+e.socket)
	}
	return append(args, "system", "dial-stdio")
}

func (e *sshEngine) String() string {
	s := e.host
	if e.user != "" {
		s = e.user + "@" + s
	}
	if e.port != "" {
		s += ":" + e.port
	}
	return s
}

// dial starts one ssh process and returns its standard streams as the
// connection. The process outlives ctx, as a connection outlives its
// dial: it ends when the connection is closed.
func (e *sshEngine) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.Command("ssh", e.args()...)
	c := &commandConn{cmd: cmd, name: "ssh " + e.String()}
	cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	if c.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("could not run %s (is OpenSSH's ssh installed?): %w", c.name, err)
	}
	return c, nil
}

// commandConn is a connection carried by a process's standard streams.
type commandConn struct {
	cmd    *exec.Cmd
	name   string
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr lockedTail

	mu       sync.Mutex
	closed   bool
	waitOnce sync.Once
	waitErr  error
}

// Read reads what the process writes. When the process ends with an error,
// the error says so in its own words (ssh's "Connection refused", the
// remote shell's "docker: command not found"), instead of a bare EOF.
func (c *commandConn) Read(p []byte) (int, error) {
	n, err := c.stdout.Read(p)
	if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
		if werr := c.wait(); werr != nil && !c.isClosed() {
			return n, c.exitError(werr)
		}
		return n, io.EOF
	}
	return n, err
}

func (c *commandConn) Write(p []byte) (int, error) {
	n, err := c.stdin.Write(p)
	if err != nil && !c.isClosed() {
		if werr := c.waitIfExited(); werr != nil {
			return n, c.exitError(werr)
		}
		return n, fmt.Errorf("%s: %w", c.name, err)
	}
	return n, err
}

// CloseWrite ends the process's input: the far side sees the end of the
// stream and the engine's answer can still be read.
func (c *commandConn) CloseWrite() error { return c.stdin.Close() }

// Close ends the process.
func (c *commandConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	_ = c.stdin.Close()
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Kill()
	}
	_ = c.wait()
	return nil
}

func (c *commandConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// wait waits for the process once and returns how it ended.
func (c *commandConn) wait() error {
	c.waitOnce.Do(func() { c.waitErr = c.cmd.Wait() })
	return c.waitErr
}

// waitIfExited returns the process's end if it ends within a moment: a
// write fails when the process is gone, and its reason follows shortly.
func (c *commandConn) waitIfExited() error {
	done := make(chan error, 1)
	go func() { done <- c.wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Second):
		return nil
	}
}

func (c *commandConn) exitError(err error) error {
	if msg := strings.TrimSpace(c.stderr.String()); msg != "" {
		return fmt.Errorf("%s ended (%v): %s", c.name, err, msg)
	}
	return fmt.Errorf("%s ended (%v) without saying why", c.name, err)
}

func (c *commandConn) LocalAddr() net.Addr                { return commandAddr(c.name) }
func (c *commandConn) RemoteAddr() net.Addr               { return commandAddr(c.name) }
func (c *commandConn) SetDeadline(t time.Time) error      { return nil }
func (c *commandConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *commandConn) SetWriteDeadline(t time.Time) error { return nil }

type commandAddr string

func (a commandAddr) Network() string { return "command" }
func (a commandAddr) String() string  { return string(a) }

// lockedTail keeps the last 4 KiB written to it, safe to read while the
// process still writes.
type lockedTail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *lockedTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - 4096; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *lockedTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
