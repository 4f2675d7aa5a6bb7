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
	env      map[string]string
	memoryMB int64
	port     int64
}

func newContainerLauncher(scope *sandbox.Scope, network string, sc *Scenario, port int64) *containerLauncher {
	env := map[string]string{
		"PORT":        strconv.FormatInt(port, 10),
		"PARALLELISM": strconv.Itoa(sc.App.Parallelism),
		"WORK_MS":     strconv.Itoa(sc.App.WorkMs),
		"INIT_MS":     strconv.Itoa(sc.App.InitMs),
	}
	return &containerLauncher{scope: scope, network: network, env: env, memoryMB: sc.Trial.InstanceMemoryMB, port: port}
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
