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
	// MaxContainers caps the containers of one grading, whatever its kind.
	MaxContainers int
}

// DefaultLimits are the caps used when none are configured. ECS runs at
// most 10 containers in a task; the largest grading is a rolling deploy of
// the subnet exercise (twice its desired count of tasks plus the other
// network interfaces of each subnet, about 40), so 64 leaves room for every
// exercise while no submission can flood the engine.
var DefaultLimits = Limits{MaxMemoryMB: 1024, MaxNanoCPUs: 1e9, PidsLimit: 128, LogBytes: 8 << 10, MaxContainers: 64}

// Options configure a sandbox.
type Options struct {
	// Host is the engine's address (DOCKER_HOST or --docker-host); empty
	// means DefaultHost.
	Host string
	// Instance names this server (or command run): everything the sandbox
	// creates carries it, and Sweep removes only what carries it.
	Instance string
	Limits   Limits
	// Budget bounds what all gradings of this server hold at once; the
	// zero Budget is DefaultBudget.
	Budget Budget
	Logger *slog.Logger
}

// Sandbox owns the connection to one Docker engine and the lab image.
type Sandbox struct {
	docker   *client.Client
	host     string
	instance string
	limits   Limits
	budget   *budget
	logger   *slog.Logger

	labMu    sync.Mutex
	labImage string
}

// New returns a sandbox on the engine at opts.Host. It does not wait for
// the engine: Ping says whether it answers, and a sandbox whose engine comes
// back later works without being made again.
func New(opts Options) (*Sandbox, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Instance == "" || !validName(opts.Instance) {
		return nil, fmt.Errorf("the sandbox instance %q must be 1-64 letters, digits, '-' or '_'", opts.Instance)
	}
	limits, d := opts.Limits, DefaultLimits
	if limits.MaxMemoryMB <= 0 {
		limits.MaxMemoryMB = d.MaxMemoryMB
	}
	if limits.MaxNanoCPUs <= 0 {
		limits.MaxNanoCPUs = d.MaxNanoCPUs
	}
	if limits.PidsLimit <= 0 {
		limits.PidsLimit = d.PidsLimit
	}
	if limits.LogBytes <= 0 {
		limits.LogBytes = d.LogBytes
	}
	if limits.MaxContainers <= 0 {
		limits.MaxContainers = d.MaxContainers
	}
	cli, err := connect(opts.Host)
	if err != nil {
		return nil, err
	}
	host := opts.Host
	if host == "" {
		host = DefaultHost
	}
	return &Sandbox{docker: cli, host: host, instance: opts.Instance, limits: limits,
		budget: newBudget(opts.Budget, limits), logger: opts.Logger}, nil
}

// Limits returns the caps in force.
func (s *Sandbox) Limits() Limits { return s.limits }

// Host returns the engine's address.
func (s *Sandbox) Host() string { return s.host }

// Instance returns the name this sandbox labels its objects with.
func (s *Sandbox) Instance() string { return s.instance }

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

// removeLabelled removes the containers and networks that carry every one
// of labels (the engine ANDs label filters).
func (s *Sandbox) removeLabelled(ctx context.Context, labels ...string) (int, error) {
	f := make(client.Filters).Add("label", labels...)
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
		if err := s.removeNetwork(ctx, n.ID, n.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// removeNetwork removes a network, waiting out endpoints that outlive their
// containers. The engine can still list an endpoint for a moment after a
// forced removal returns, and a container whose create request was
// abandoned can appear after the list that should have caught it; either
// makes the removal fail with "has active endpoints". Each retry removes
// what is still attached: this instance's containers outright, anything else
// only disconnected, since it is not ours to remove.
func (s *Sandbox) removeNetwork(ctx context.Context, id, name string) error {
	wait := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		_, err := s.docker.NetworkRemove(ctx, id, client.NetworkRemoveOptions{})
		if err == nil || isNotFound(err) {
			return nil
		}
		if attempt == 5 || ctx.Err() != nil {
			return fmt.Errorf("remove network %s: %w", name, err)
		}
		s.detachAll(ctx, id)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait *= 2
	}
}

// detachAll takes every container off network id: it removes those this
// instance created and disconnects the rest. Failures are left for the next
// removal attempt to report.
func (s *Sandbox) detachAll(ctx context.Context, id string) {
	inspect, err := s.docker.NetworkInspect(ctx, id, client.NetworkInspectOptions{})
	if err != nil {
		return
	}
	for cid := range inspect.Network.Containers {
		c, err := s.docker.ContainerInspect(ctx, cid, client.ContainerInspectOptions{})
		if err == nil && c.Container.Config != nil && c.Container.Config.Labels[LabelInstance] == s.instance {
			_, _ = s.docker.ContainerRemove(ctx, cid, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			continue
		}
		_, _ = s.docker.NetworkDisconnect(ctx, id, client.NetworkDisconnectOptions{Container: cid, Force: true})
	}
}

// validName accepts the instance and grading names that go into labels
// and container names: short, and nothing a filter could misread.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (s *Sandbox) labels(grading string) map[string]string {
	return map[string]string{LabelManaged: "true", LabelInstance: s.instance, LabelGrading: grading}
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
