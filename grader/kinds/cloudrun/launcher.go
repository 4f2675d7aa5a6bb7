package cloudrun

import (
	"context"
	"net"
	"strconv"
	"time"

	"coldstart/grader/sandbox"
)

// containerLauncher starts each instance as a run-worker lab container on
// the grading's internal network.
type containerLauncher struct {
	scope    *sandbox.Scope
	network  string
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	env      map[string]string
	memoryMB int64
	port     int64
}

func newContainerLauncher(scope *sandbox.Scope, nw *sandbox.Network, sc *Scenario, port int64) *containerLauncher {
	env := map[string]string{
		"PORT":        strconv.FormatInt(port, 10),
		"PARALLELISM": strconv.Itoa(sc.App.Parallelism),
		"WORK_MS":     strconv.Itoa(sc.App.WorkMs),
		"INIT_MS":     strconv.Itoa(sc.App.InitMs),
	}
	return &containerLauncher{scope: scope, network: nw.Name, dial: scope.Dialer(nw), env: env, memoryMB: sc.Trial.InstanceMemoryMB, port: port}
}

// DialContext reaches an instance through the relay inside the trial's
// network: the router never dials a container's address itself.
func (l *containerLauncher) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return l.dial(ctx, network, addr)
}

func (l *containerLauncher) Launch(ctx context.Context, name string) (Backend, error) {
	c, err := l.scope.Start(ctx, sandbox.ContainerSpec{Name: name, Cmd: []string{"run-worker"}, Env: l.env,
		Networks: []string{l.network}, MemoryMB: l.memoryMB})
	if err != nil {
		return nil, err
	}
	ip, err := c.IP(ctx, l.network)
	if err != nil {
		return nil, err
	}
	return &containerBackend{c: c, addr: net.JoinHostPort(ip, strconv.FormatInt(l.port, 10))}, nil
}

type containerBackend struct {
	c    *sandbox.Container
	addr string
}

func (b *containerBackend) Addr() string { return b.addr }

// Stop gives the instance Cloud Run's 10 s between SIGTERM and SIGKILL.
func (b *containerBackend) Stop(ctx context.Context) error { return b.c.Stop(ctx, 10*time.Second) }
