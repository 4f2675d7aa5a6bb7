package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"coldstart/grader"
)

// SealOption is the bridge driver's option that gives the host no IPv4
// address on the bridge. With it and an internal network, a lab container
// reaches only the other containers of its grading: not the host, not the
// server, not another grading. The grader itself reaches them only through
// the Docker API (exec, logs, inspect) and the relay.
const SealOption = "com.docker.network.bridge.inhibit_ipv4"

// ErrContainerCap is returned when a grading asks for more containers than
// Limits.MaxContainers.
var ErrContainerCap = errors.New("the grading asked for more containers than the sandbox allows")

// Scope holds the containers and networks of one grading. Close removes
// them all.
type Scope struct {
	sb      *Sandbox
	grading string
	wait    func(string)

	mu         sync.Mutex
	containers []*Container
	networks   []*Network
	created    int // containers asked for, started or not: what the cap counts
	relays     map[string]*relayHost
	closed     bool
	// starting counts Start calls under way; Close waits for them, so that
	// nothing is created after the scope has removed its objects.
	starting sync.WaitGroup
	// ending ends when Close begins: it stops starts that wait.
	ending context.Context
	end    context.CancelFunc
}

// Scope opens the scope of the grading with the given id.
func (s *Sandbox) Scope(grading string) *Scope {
	ending, end := context.WithCancel(context.Background())
	return &Scope{sb: s, grading: grading, relays: map[string]*relayHost{}, ending: ending, end: end}
}

// OpenScope is Scope for the grading engine, with a function told when the
// grading waits for the server's container budget.
func (s *Sandbox) OpenScope(grading string, wait func(string)) grader.Scope {
	sc := s.Scope(grading)
	sc.wait = wait
	return sc
}

// Open starts g's run phase and returns the scope of its containers.
func Open(ctx context.Context, g *grader.Grading) (*Scope, error) {
	s, err := g.Containers(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := s.(*Scope)
	if !ok {
		return nil, fmt.Errorf("the grading's containers run on %T, which this kind cannot drive", s)
	}
	return sc, nil
}

// NetworkSpec describes an internal network. Subnet, Gateway and Aux are
// optional; Aux reserves addresses so that no container gets them.
type NetworkSpec struct {
	Subnet  string
	Gateway string
	Aux     map[string]string
}

// Network is a sealed internal network of a grading: no route leaves it and
// the host has no address on it.
type Network struct {
	Name   string
	ID     string
	Subnet string
}

// Network creates a sealed internal network in the scope.
func (sc *Scope) Network(ctx context.Context, spec NetworkSpec) (*Network, error) {
	if err := sc.open(); err != nil {
		return nil, err
	}
	opts := client.NetworkCreateOptions{Driver: "bridge", Internal: true, Labels: sc.sb.labels(sc.grading),
		Options: map[string]string{SealOption: "true"}}
	if spec.Subnet != "" {
		ipam, err := spec.ipam()
		if err != nil {
			return nil, err
		}
		opts.IPAM = ipam
	}
	name := "coldstart-" + randomHex(8)
	res, err := sc.sb.docker.NetworkCreate(ctx, name, opts)
	if err != nil {
		return nil, fmt.Errorf("the engine refused to create a network: %w", err)
	}
	nw := &Network{Name: name, ID: res.ID, Subnet: spec.Subnet}
	sc.mu.Lock()
	sc.networks = append(sc.networks, nw)
	sc.mu.Unlock()
	return nw, nil
}

func (spec NetworkSpec) ipam() (*network.IPAM, error) {
	cfg := network.IPAMConfig{AuxAddress: map[string]netip.Addr{}}
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
	return &network.IPAM{Driver: "default", Config: []network.IPAMConfig{cfg}}, nil
}

func (sc *Scope) open() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.closed {
		return errors.New("the grading has ended")
	}
	return nil
}

// reserve counts one more container against the grading's cap and marks a
// start under way; the caller calls sc.starting.Done when it ends.
func (sc *Scope) reserve(name string) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.closed {
		return errors.New("the grading has ended")
	}
	if sc.created >= sc.sb.limits.MaxContainers {
		return fmt.Errorf("%w: container %s would be number %d of this grading, past the sandbox's cap of %d containers per grading", ErrContainerCap, name, sc.created+1, sc.sb.limits.MaxContainers)
	}
	sc.created++
	sc.starting.Add(1)
	return nil
}

// Close stops and removes every container and network of the scope.
func (sc *Scope) Close(ctx context.Context) error {
	sc.mu.Lock()
	sc.closed = true
	sc.mu.Unlock()
	sc.end()
	sc.starting.Wait()
	sc.mu.Lock()
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
			if err := c.remove(ctx); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, n := range ns {
		if err := sc.sb.removeNetwork(ctx, n.ID, n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	// Anything created but not recorded (a start that failed half-way) still
	// carries this instance's and this grading's labels, and nothing else
	// does: another server's grading of the same id is not touched.
	if _, err := sc.sb.removeLabelled(ctx, LabelInstance+"="+sc.sb.instance, LabelGrading+"="+sc.grading); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
