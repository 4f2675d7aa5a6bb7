package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	mnetwork "github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"
)

// Scope holds the containers and networks of one grading. Close removes
// them all.
type Scope struct {
	sb      *Sandbox
	grading string

	mu         sync.Mutex
	containers []*Container
	networks   []*testcontainers.DockerNetwork
	closed     bool
}

// Scope opens the scope of the grading with the given id.
func (s *Sandbox) Scope(grading string) *Scope { return &Scope{sb: s, grading: grading} }

// NetworkSpec describes an internal network. Subnet, Gateway and Aux are
// optional; Aux reserves addresses so that no container gets them.
type NetworkSpec struct {
	Subnet  string
	Gateway string
	Aux     map[string]string
}

// Network is an internal network of a grading: no route leaves it.
type Network struct {
	Name   string
	ID     string
	Subnet string
}

// Network creates an internal network in the scope.
func (sc *Scope) Network(ctx context.Context, spec NetworkSpec) (*Network, error) {
	opts := []network.NetworkCustomizer{network.WithInternal(), network.WithLabels(sc.sb.labels(sc.grading))}
	if spec.Subnet != "" {
		cfg := mnetwork.IPAMConfig{AuxAddress: map[string]netip.Addr{}}
		p, err := netip.ParsePrefix(spec.Subnet)
		if err != nil {
			return nil, fmt.Errorf("network subnet %q: %w", spec.Subnet, err)
		}
		cfg.Subnet = p
		if spec.Gateway != "" {
			gw, err := netip.ParseAddr(spec.Gateway)
			if err != nil {
				return nil, fmt.Errorf("network gateway %q: %w", spec.Gateway, err)
			}
			cfg.Gateway = gw
		}
		for k, v := range spec.Aux {
			a, err := netip.ParseAddr(v)
			if err != nil {
				return nil, fmt.Errorf("network auxiliary address %q: %w", v, err)
			}
			cfg.AuxAddress[k] = a
		}
		opts = append(opts, network.WithIPAM(&mnetwork.IPAM{Driver: "default", Config: []mnetwork.IPAMConfig{cfg}}))
	}
	nw, err := network.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("create network: %w", err)
	}
	sc.mu.Lock()
	sc.networks = append(sc.networks, nw)
	sc.mu.Unlock()
	return &Network{Name: nw.Name, ID: nw.ID, Subnet: spec.Subnet}, nil
}

// HealthCheck is a Docker health check, with ECS's semantics.
type HealthCheck struct {
	Test        []string // "CMD", args… or "CMD-SHELL", command
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// ContainerSpec describes one grading container. The image defaults to the
// lab image, whose entrypoint is the lab program: Cmd names the lab and its
// arguments, e.g. {"api-worker"}.
type ContainerSpec struct {
	Name     string // short name: a network alias and the log prefix
	Image    string
	Cmd      []string
	Env      map[string]string
	Networks []string // network names; none means no network at all
	// Aliases are extra DNS names on every network of the container.
	Aliases  []string
	MemoryMB int64 // 0 means the sandbox's cap
	NanoCPUs int64 // 0 means the sandbox's cap
	Health   *HealthCheck
	// WritableRoot lets the container write to its root filesystem.
	WritableRoot bool
}

// Container is a running grading container.
type Container struct {
	Name string
	ID   string
	tc   testcontainers.Container
	sb   *Sandbox
}

// Start creates and starts a container in the scope. It returns once the
// container process has started; use State to follow its health.
func (sc *Scope) Start(ctx context.Context, spec ContainerSpec) (*Container, error) {
	sc.mu.Lock()
	if sc.closed {
		sc.mu.Unlock()
		return nil, errors.New("the grading has ended")
	}
	sc.mu.Unlock()
	img := spec.Image
	if img == "" {
		var err error
		if img, err = sc.sb.LabImage(ctx); err != nil {
			return nil, err
		}
	}
	mem := spec.MemoryMB
	if mem <= 0 || mem > sc.sb.limits.MaxMemoryMB {
		mem = sc.sb.limits.MaxMemoryMB
	}
	cpus := spec.NanoCPUs
	if cpus <= 0 || cpus > sc.sb.limits.MaxNanoCPUs {
		cpus = sc.sb.limits.MaxNanoCPUs
	}
	pids := sc.sb.limits.PidsLimit
	aliases := map[string][]string{}
	for _, n := range spec.Networks {
		aliases[n] = append([]string{spec.Name}, spec.Aliases...)
	}
	req := testcontainers.ContainerRequest{
		Image:          img,
		Cmd:            spec.Cmd,
		Env:            spec.Env,
		Labels:         sc.sb.labels(sc.grading),
		Networks:       spec.Networks,
		NetworkAliases: aliases,
		ConfigModifier: func(c *container.Config) {
			if spec.Health != nil {
				c.Healthcheck = &container.HealthConfig{
					Test: spec.Health.Test, Interval: spec.Health.Interval, Timeout: spec.Health.Timeout,
					StartPeriod: spec.Health.StartPeriod, Retries: spec.Health.Retries,
				}
			}
		},
		HostConfigModifier: func(h *container.HostConfig) {
			h.Resources.Memory = mem << 20
			h.Resources.MemorySwap = mem << 20 // no swap: a container above its limit is killed, as on Fargate
			h.Resources.NanoCPUs = cpus
			h.Resources.PidsLimit = &pids
			h.CapDrop = []string{"ALL"}
			h.SecurityOpt = []string{"no-new-privileges"}
			h.ReadonlyRootfs = !spec.WritableRoot
			h.LogConfig = container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m", "max-file": "1"}}
			if len(spec.Networks) == 0 {
				h.NetworkMode = "none"
			}
		},
	}
	began := time.Now()
	tc, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	reportContainerStart(began, err)
	if tc != nil {
		c := &Container{Name: spec.Name, ID: tc.GetContainerID(), tc: tc, sb: sc.sb}
		sc.mu.Lock()
		sc.containers = append(sc.containers, c)
		sc.mu.Unlock()
		if err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("start container %s: %w", spec.Name, err)
}

// Close stops and removes every container and network of the scope.
func (sc *Scope) Close(ctx context.Context) error {
	sc.mu.Lock()
	sc.closed = true
	cs, ns := sc.containers, sc.networks
	sc.containers, sc.networks = nil, nil
	sc.mu.Unlock()
	var errs []error
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.tc.Terminate(ctx, testcontainers.StopTimeout(0)); err != nil && !errdefs.IsNotFound(err) {
				emu.Lock()
				errs = append(errs, fmt.Errorf("remove container %s: %w", c.Name, err))
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, n := range ns {
		if err := n.Remove(ctx); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	// Anything created but not recorded (a start that failed half-way) still
	// carries the grading's label.
	if _, err := sc.sb.removeLabelled(ctx, LabelGrading+"="+sc.grading); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// State is what the engine reports about a container.
type State struct {
	Status    string // created, running, exited…
	Running   bool
	ExitCode  int
	OOMKilled bool
	Error     string
	// Health is starting, healthy or unhealthy; empty without a health check.
	Health        string
	FailingStreak int
	// HealthLog holds the output of the last few health checks, oldest first.
	HealthLog []HealthResult
	StartedAt time.Time
	// FinishedAt is zero while the container runs.
	FinishedAt time.Time
}

// HealthResult is one run of a health check.
type HealthResult struct {
	ExitCode int
	Output   string
	Start    time.Time
}

// State inspects the container.
func (c *Container) State(ctx context.Context) (State, error) {
	st, err := c.tc.State(ctx)
	if err != nil {
		return State{}, fmt.Errorf("inspect %s: %w", c.Name, err)
	}
	s := State{Status: string(st.Status), Running: st.Running, ExitCode: st.ExitCode, OOMKilled: st.OOMKilled, Error: st.Error}
	s.StartedAt, _ = time.Parse(time.RFC3339Nano, st.StartedAt)
	if t, err := time.Parse(time.RFC3339Nano, st.FinishedAt); err == nil && t.Year() > 1 {
		s.FinishedAt = t
	}
	if st.Health != nil {
		s.Health = string(st.Health.Status)
		s.FailingStreak = st.Health.FailingStreak
		for _, r := range st.Health.Log {
			if r != nil {
				s.HealthLog = append(s.HealthLog, HealthResult{ExitCode: r.ExitCode, Output: strings.TrimSpace(r.Output), Start: r.Start})
			}
		}
	}
	return s, nil
}

// IP returns the container's address on the named network.
func (c *Container) IP(ctx context.Context, networkName string) (string, error) {
	ins, err := c.tc.Inspect(ctx)
	if err != nil {
		return "", fmt.Errorf("inspect %s: %w", c.Name, err)
	}
	if ins.NetworkSettings != nil {
		if ep, ok := ins.NetworkSettings.Networks[networkName]; ok && ep != nil && ep.IPAddress.IsValid() {
			return ep.IPAddress.String(), nil
		}
	}
	return "", fmt.Errorf("container %s has no address on network %s", c.Name, networkName)
}

// Stop sends SIGTERM and, after timeout, SIGKILL, as ECS does with a task's
// stopTimeout. It returns when the container has exited.
func (c *Container) Stop(ctx context.Context, timeout time.Duration) error {
	if err := c.tc.Stop(ctx, &timeout); err != nil {
		return fmt.Errorf("stop %s: %w", c.Name, err)
	}
	return nil
}

// Logs returns the container's output so far, cut to the sandbox's limit
// (the end is kept, since that is where a failure shows).
func (c *Container) Logs(ctx context.Context) (string, error) {
	rc, err := c.tc.Logs(ctx)
	if err != nil {
		return "", fmt.Errorf("logs of %s: %w", c.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(rc, 4<<20)); err != nil {
		return "", fmt.Errorf("logs of %s: %w", c.Name, err)
	}
	return tail(buf.String(), c.sb.limits.LogBytes), nil
}

// Exec runs a command in the container and returns its exit code and output.
func (c *Container) Exec(ctx context.Context, cmd []string) (int, string, error) {
	code, r, err := c.tc.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return 0, "", fmt.Errorf("exec in %s: %w", c.Name, err)
	}
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, io.LimitReader(r, 1<<20))
	return code, tail(buf.String(), c.sb.limits.LogBytes), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
