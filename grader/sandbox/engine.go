// Package sandbox runs the containers of a grading on a Docker engine through
// the Docker API alone, with the limits every grading container gets: sealed
// internal networks (no route out, no address of the host on them), CPU,
// memory and pids limits, no capabilities, no new privileges, a read-only
// root, a cap on containers per grading and a budget across gradings, and
// removal when the grading ends.
package sandbox

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"coldstart/grader"
)

// DefaultHost is the engine used when neither DOCKER_HOST nor --docker-host
// names one: the local socket, as for the docker command.
const DefaultHost = client.DefaultDockerHost

// ErrUnavailable wraps every failure to reach the container engine; it is
// the grader's ErrEngineUnavailable, so the worker can tell it apart.
var ErrUnavailable = grader.ErrEngineUnavailable

// connect builds the engine client from host and nothing else: no other
// engine is tried when this one does not answer, and no configuration file
// can point the client elsewhere. TLS material for a tcp:// engine comes
// from DOCKER_CERT_PATH and DOCKER_TLS_VERIFY, and an ssh:// engine is
// reached through the ssh command, both as for the docker command.
func connect(host string) (*client.Client, error) {
	if host == "" {
		host = DefaultHost
	}
	u, err := url.Parse(host)
	if err != nil || u.Scheme == "" || !strings.Contains(host, "://") {
		return nil, fmt.Errorf("the Docker host %q is not a URL such as unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host", host)
	}
	var opts []client.Opt
	switch u.Scheme {
	case "unix", "tcp", "http", "https":
		opts = []client.Opt{client.WithHost(host), client.WithTLSClientConfigFromEnv()}
	case "ssh":
		e, err := parseSSHHost(host)
		if err != nil {
			return nil, err
		}
		opts = []client.Opt{client.WithHost(sshPlaceholderHost), client.WithDialContext(e.dial)}
	default:
		return nil, fmt.Errorf("the Docker host %q has scheme %s; use unix://, tcp:// or ssh://", host, u.Scheme)
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("the Docker host %q: %w", host, err)
	}
	return cli, nil
}

// EngineInfo names the engine a sandbox talks to.
type EngineInfo struct {
	Host       string
	Version    string
	APIVersion string
	OS         string
}

// Ping checks that the engine answers, negotiating the API version the
// first time it does.
func (s *Sandbox) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.docker.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return fmt.Errorf("%w at %s: %v", ErrUnavailable, s.host, plainEngineError(err))
	}
	return nil
}

// Engine reports the engine's address and version.
func (s *Sandbox) Engine(ctx context.Context) (EngineInfo, error) {
	info := EngineInfo{Host: s.host}
	if err := s.Ping(ctx); err != nil {
		return info, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := s.docker.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return info, fmt.Errorf("%w at %s: %v", ErrUnavailable, s.host, plainEngineError(err))
	}
	info.Version, info.APIVersion, info.OS = v.Version, v.APIVersion, v.Os
	return info, nil
}

// plainEngineError shortens the client's wording for an engine that is not
// there to what an operator needs to read.
func plainEngineError(err error) string {
	// An ssh:// engine's requests name a placeholder host the operator
	// never wrote: what ssh said is the reason.
	msg := placeholderRequest.ReplaceAllString(err.Error(), "")
	for _, marker := range []string{"no such file or directory", "connection refused", "permission denied", "i/o timeout", "no such host"} {
		if strings.Contains(msg, marker) {
			return marker + " (" + msg + ")"
		}
	}
	return msg
}

var placeholderRequest = regexp.MustCompile(`[A-Za-z]+ "` + regexp.QuoteMeta(sshPlaceholderHost) + `[^"]*": `)
