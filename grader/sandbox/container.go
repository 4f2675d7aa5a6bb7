package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

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
	Name     string
	ID       string
	sb       *Sandbox
	memoryMB int64 // what it holds of the server's budget

	muxMu sync.Mutex
	mux   *muxClient // the relay exec'd in this container, if any
}

// Start creates and starts a container in the scope. It returns once the
// container process has started; use State to follow its health. It waits
// while the server's container budget is spent, and refuses a container
// past the grading's cap.
func (sc *Scope) Start(ctx context.Context, spec ContainerSpec) (*Container, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if err := sc.reserve(spec.Name); err != nil {
		return nil, err
	}
	defer sc.starting.Done()
	// A start ends with the grading: Close does not wait on an engine
	// that never answers or a budget that never frees.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(sc.ending, cancel)()
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
	if _, err := sc.sb.budget.acquire(ctx, mem, sc.wait); err != nil {
		return nil, fmt.Errorf("start container %s: %w", spec.Name, err)
	}
	c := &Container{Name: spec.Name, sb: sc.sb, memoryMB: mem}
	began := time.Now()
	id, err := sc.create(ctx, spec, img, mem, cpus)
	reportContainerStart(began, err)
	if id != "" {
		c.ID = id
	}
	if id == "" {
		// Nothing exists on the engine, so nothing is held.
		sc.sb.budget.release(mem)
		return nil, fmt.Errorf("start container %s: %w", spec.Name, err)
	}
	sc.mu.Lock()
	sc.containers = append(sc.containers, c)
	sc.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("start container %s: %w", spec.Name, err)
	}
	return c, nil
}

// create creates, connects and starts the container; it returns the id of
// whatever it created, even on error, so that the scope removes it.
func (sc *Scope) create(ctx context.Context, spec ContainerSpec, img string, mem, cpus int64) (string, error) {
	pids := sc.sb.limits.PidsLimit
	cfg := &container.Config{Image: img, Cmd: spec.Cmd, Env: envList(spec.Env), Labels: sc.sb.labels(sc.grading)}
	if h := spec.Health; h != nil {
		cfg.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
	}
	hc := &container.HostConfig{
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		ReadonlyRootfs: !spec.WritableRoot,
		LogConfig:      container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m", "max-file": "1"}},
		NetworkMode:    "none",
	}
	hc.Resources.Memory = mem << 20
	hc.Resources.MemorySwap = mem << 20 // no swap: a container above its limit is killed, as on Fargate
	hc.Resources.NanoCPUs = cpus
	hc.Resources.PidsLimit = &pids
	aliases := append([]string{spec.Name}, spec.Aliases...)
	var nc *network.NetworkingConfig
	if len(spec.Networks) > 0 {
		// Engines before API 1.44 take one network at creation; the others
		// are connected before the container starts.
		hc.NetworkMode = container.NetworkMode(spec.Networks[0])
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{spec.Networks[0]: {Aliases: aliases}}}
	}
	res, err := sc.sb.docker.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc, NetworkingConfig: nc})
	if err != nil {
		return "", fmt.Errorf("the engine refused to create it: %w", err)
	}
	for _, n := range spec.Networks[min(1, len(spec.Networks)):] {
		if _, err := sc.sb.docker.NetworkConnect(ctx, n, client.NetworkConnectOptions{Container: res.ID, EndpointConfig: &network.EndpointSettings{Aliases: aliases}}); err != nil {
			return res.ID, fmt.Errorf("the engine refused to connect it to network %s: %w", n, err)
		}
	}
	if _, err := sc.sb.docker.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		return res.ID, fmt.Errorf("the engine refused to start it: %w", err)
	}
	return res.ID, nil
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// remove removes the container and gives its share of the budget back.
func (c *Container) remove(ctx context.Context) error {
	_, err := c.sb.docker.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !errdefs.IsNotFound(err) {
		// Sweep removes it later; the budget is given back all the same,
		// or one engine hiccup would shrink the server for good.
		c.sb.budget.release(c.memoryMB)
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	c.sb.budget.release(c.memoryMB)
	return nil
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

func (c *Container) inspect(ctx context.Context) (container.InspectResponse, error) {
	res, err := c.sb.docker.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		return container.InspectResponse{}, fmt.Errorf("inspect %s: %w", c.Name, err)
	}
	return res.Container, nil
}

// State inspects the container.
func (c *Container) State(ctx context.Context) (State, error) {
	ins, err := c.inspect(ctx)
	if err != nil {
		return State{}, err
	}
	st := ins.State
	if st == nil {
		return State{}, fmt.Errorf("inspect %s: the engine reported no state", c.Name)
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

// IP returns the container's address on the named network, as the engine
// reports it. The grader never dials it: it is what the student's task sees
// (its ENI's address), and what a relay inside the network may dial.
func (c *Container) IP(ctx context.Context, networkName string) (string, error) {
	ins, err := c.inspect(ctx)
	if err != nil {
		return "", err
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
	secs := int(timeout / time.Second)
	if _, err := c.sb.docker.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return fmt.Errorf("stop %s: %w", c.Name, err)
	}
	return nil
}

// Logs returns the container's output so far, cut to the sandbox's limit
// (the end is kept, since that is where a failure shows).
func (c *Container) Logs(ctx context.Context) (string, error) {
	rc, err := c.sb.docker.ContainerLogs(ctx, c.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "", fmt.Errorf("logs of %s: %w", c.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	w := &capped{buf: &buf, n: 4 << 20}
	if _, err := stdcopy.StdCopy(w, w, rc); err != nil && !errors.Is(err, errCapped) {
		return "", fmt.Errorf("logs of %s: %w", c.Name, err)
	}
	return tail(buf.String(), c.sb.limits.LogBytes), nil
}

// Exec runs a command in the container and returns its exit code and output.
func (c *Container) Exec(ctx context.Context, cmd []string) (int, string, error) {
	ex, err := c.sb.docker.ExecCreate(ctx, c.ID, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return 0, "", fmt.Errorf("exec in %s: %w", c.Name, err)
	}
	att, err := c.sb.docker.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return 0, "", fmt.Errorf("exec in %s: %w", c.Name, err)
	}
	defer att.Close()
	// The stream is read in the background so that ctx can end it.
	var buf bytes.Buffer
	done := make(chan error, 1)
	go func() {
		w := &capped{buf: &buf, n: 1 << 20}
		_, err := stdcopy.StdCopy(w, w, att.Reader)
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		att.Close()
		<-done
		return 0, "", fmt.Errorf("exec in %s: %w", c.Name, ctx.Err())
	}
	if err != nil && !errors.Is(err, errCapped) {
		return 0, "", fmt.Errorf("exec in %s: %w", c.Name, err)
	}
	// The stream can end a moment before the engine records the exit code.
	var ins client.ExecInspectResult
	for range 50 {
		if ins, err = c.sb.docker.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{}); err != nil {
			return 0, "", fmt.Errorf("exec in %s: %w", c.Name, err)
		}
		if !ins.Running {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ins.ExitCode, tail(buf.String(), c.sb.limits.LogBytes), nil
}

var errCapped = errors.New("output cut")

// capped is a writer that keeps at most n bytes.
type capped struct {
	buf *bytes.Buffer
	n   int
}

func (w *capped) Write(p []byte) (int, error) {
	room := w.n - w.buf.Len()
	if room <= 0 {
		return 0, errCapped
	}
	if len(p) > room {
		w.buf.Write(p[:room])
		return room, errCapped
	}
	return w.buf.Write(p)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
