package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Labels put on every container and network the sandbox creates.
const (
	LabelManaged  = "dev.coldstart.managed"
	LabelInstance = "dev.coldstart.instance"
	LabelGrading  = "dev.coldstart.grading"
)

// Limits caps what any grading container may use, whatever a submission asks.
type Limits struct {
	MaxMemoryMB int64 // per container
	MaxNanoCPUs int64 // per container, 1e9 = one CPU
	PidsLimit   int64 // per container
	LogBytes    int   // container output kept per container
}

// DefaultLimits are the caps used when none are configured.
var DefaultLimits = Limits{MaxMemoryMB: 1024, MaxNanoCPUs: 1e9, PidsLimit: 128, LogBytes: 8 << 10}

// Sandbox owns the connection to a Docker engine (DOCKER_HOST is honoured)
// and the lab image.
type Sandbox struct {
	docker   *testcontainers.DockerClient
	instance string
	limits   Limits
	logger   *slog.Logger

	labMu    sync.Mutex
	labImage string
}

// ErrUnavailable wraps every failure to reach the container engine.
var ErrUnavailable = errors.New("the container engine is unavailable")

// New connects to the Docker engine. instance names this server (or command
// run): what the sandbox leaves behind after a crash carries it, and Sweep
// removes it.
func New(ctx context.Context, instance string, limits Limits, logger *slog.Logger) (*Sandbox, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if limits.MaxMemoryMB <= 0 {
		limits.MaxMemoryMB = DefaultLimits.MaxMemoryMB
	}
	if limits.MaxNanoCPUs <= 0 {
		limits.MaxNanoCPUs = DefaultLimits.MaxNanoCPUs
	}
	if limits.PidsLimit <= 0 {
		limits.PidsLimit = DefaultLimits.PidsLimit
	}
	if limits.LogBytes <= 0 {
		limits.LogBytes = DefaultLimits.LogBytes
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return &Sandbox{docker: cli, instance: instance, limits: limits, logger: logger}, nil
}

// Limits returns the caps in force.
func (s *Sandbox) Limits() Limits { return s.limits }

// Instance returns the name this sandbox labels its objects with.
func (s *Sandbox) Instance() string { return s.instance }

// Ping checks that the engine answers.
func (s *Sandbox) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.docker.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Close releases the engine connection.
func (s *Sandbox) Close() error { return s.docker.Close() }

// Sweep removes every container and network this instance left behind, such
// as after a crash. It returns how many objects it removed.
func (s *Sandbox) Sweep(ctx context.Context) (int, error) {
	return s.removeLabelled(ctx, LabelInstance+"="+s.instance)
}

// Leftovers counts the containers and networks carrying this instance's
// label: zero once every grading has been cleaned up.
func (s *Sandbox) Leftovers(ctx context.Context) (int, error) {
	f := make(client.Filters).Add("label", LabelInstance+"="+s.instance)
	cs, err := s.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, fmt.Errorf("list containers: %w", err)
	}
	ns, err := s.docker.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return 0, fmt.Errorf("list networks: %w", err)
	}
	return len(cs.Items) + len(ns.Items), nil
}

func (s *Sandbox) removeLabelled(ctx context.Context, label string) (int, error) {
	f := make(client.Filters).Add("label", label)
	removed := 0
	cs, err := s.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range cs.Items {
		if _, err := s.docker.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
			continue
		}
		removed++
	}
	ns, err := s.docker.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return removed, errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range ns.Items {
		if _, err := s.docker.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

func (s *Sandbox) labels(grading string) map[string]string {
	return map[string]string{LabelManaged: "true", LabelInstance: s.instance, LabelGrading: grading}
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
