package sandboxtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// SSHServer is an sshd a test started.
type SSHServer struct {
	// URL is the local engine through it: ssh://USER@127.0.0.1:PORT.
	URL  string
	logs *syncBuffer
}

// Log returns what sshd has logged: a test can see the sessions it served.
func (s *SSHServer) Log() string { return s.logs.String() }

// SSHEngine starts an OpenSSH server of the test's own on a loopback port,
// through which the local engine is reached as ssh://USER@127.0.0.1:PORT. Everything it uses is made in a temporary
// directory: a host key, a client key authorized for the current user and
// a known_hosts file holding the host key, so ssh checks the server as it
// would any other. The machine's own sshd and its configuration are not
// touched.
//
// ssh reads keys from the home directory of the user it runs as, not from
// $HOME, so the test puts an ssh first in PATH that runs the real one with
// the test's client configuration; the code under test runs "ssh" from
// PATH as it does in production.
//
// Without sshd the test fails and says how to install it.
func SSHEngine(tb testing.TB) *SSHServer {
	tb.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
	}
	if _, err := os.Stat(sshd); err != nil {
		tb.Fatalf("this test grades through an ssh:// engine and needs OpenSSH's sshd (Debian: apt-get install openssh-server; .ci/run installs it): %v", err)
	}
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		tb.Fatalf("this test grades through an ssh:// engine and needs OpenSSH's ssh client (Debian: apt-get install openssh-client): %v", err)
	}
	me, err := user.Current()
	if err != nil {
		tb.Fatal(err)
	}
	// sshd insists on its privilege separation directory, which Debian
	// creates only when it starts the system's own sshd.
	if _, err := os.Stat("/run/sshd"); os.IsNotExist(err) && os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			tb.Fatal(err)
		}
	}

	dir := tb.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	for _, key := range []string{"host_key", "client_key"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "coldstart-test", "-f", path(key)).CombinedOutput(); err != nil {
			tb.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	port := freePort(tb)
	hostPub := readFile(tb, path("host_key.pub"))
	fields := strings.Fields(hostPub)
	writeFile(tb, path("known_hosts"), fmt.Sprintf("[127.0.0.1]:%d %s %s\n", port, fields[0], fields[1]))
	writeFile(tb, path("authorized_keys"), readFile(tb, path("client_key.pub")))
	writeFile(tb, path("sshd_config"), strings.Join([]string{
		fmt.Sprintf("Port %d", port),
		"ListenAddress 127.0.0.1",
		"HostKey " + path("host_key"),
		"AuthorizedKeysFile " + path("authorized_keys"),
		"PidFile " + path("sshd.pid"),
		"AllowUsers " + me.Username,
		"PermitRootLogin prohibit-password",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		// The temporary directory sits in a world-writable /tmp.
		"StrictModes no",
		"LogLevel VERBOSE",
		"",
	}, "\n"))
	writeFile(tb, path("ssh_config"), strings.Join([]string{
		"Host *",
		"  IdentityFile " + path("client_key"),
		"  IdentitiesOnly yes",
		"  UserKnownHostsFile " + path("known_hosts"),
		"  GlobalKnownHostsFile /dev/null",
		"  StrictHostKeyChecking yes",
		"",
	}, "\n"))
	bin := path("bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		tb.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s -F %s \"$@\"\n", ssh, path("ssh_config"))
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(wrapper), 0o755); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	logs := &syncBuffer{}
	cmd := exec.Command(sshd, "-D", "-e", "-f", path("sshd_config"))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start sshd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if tb.Failed() {
			tb.Logf("sshd's log:\n%s", logs.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			tb.Fatalf("sshd exited at start (%v): %s", err, logs.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("sshd did not listen on %s within 10 s: %s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &SSHServer{URL: fmt.Sprintf("ssh://%s@%s", me.Username, addr), logs: logs}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func readFile(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func writeFile(tb testing.TB, name, s string) {
	tb.Helper()
	if err := os.WriteFile(name, []byte(s), 0o600); err != nil {
		tb.Fatal(err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
