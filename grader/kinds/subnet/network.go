package subnet

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"coldstart/grader"
	"coldstart/grader/sandbox"
)

// Waiting for a block another network holds: how often to ask again, and
// how long to wait before playing the subnet out in a stand-in block.
const (
	overlapRetry = 500 * time.Millisecond
	overlapWait  = 5 * time.Second
)

// standInBlock is where a subnet is played out when the container engine
// keeps its own block busy (a network of another exercise, or one the engine
// failed to delete). A stand-in has the same size, so the same addresses are
// reserved and the same number are free; addresses are shown translated back
// into the student's block.
var standInBlock = netip.MustParsePrefix("10.255.0.0/16")

// maxStandIns bounds how many stand-in blocks are tried.
const maxStandIns = 32

// heldBlocks remembers blocks found held by another network, so that the
// next grading of the same block does not wait for it again: a network the
// engine failed to delete stays until the engine restarts.
type heldBlocks struct {
	mu   sync.Mutex
	seen map[netip.Prefix]time.Time
}

// heldMemory is how long a block found held is remembered.
const heldMemory = 10 * time.Minute

var held = &heldBlocks{seen: map[netip.Prefix]time.Time{}}

func (h *heldBlocks) recently(p netip.Prefix) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.seen[p]
	return ok && time.Since(t) < heldMemory
}

func (h *heldBlocks) remember(p netip.Prefix) {
	h.mu.Lock()
	h.seen[p] = time.Now()
	h.mu.Unlock()
}

func (h *heldBlocks) forget(p netip.Prefix) {
	h.mu.Lock()
	delete(h.seen, p)
	h.mu.Unlock()
}

// subnetNet is the network a submitted subnet is played out in.
type subnetNet struct {
	net    *sandbox.Network
	shown  netip.Prefix // the student's subnet
	actual netip.Prefix // the engine's network: the same block or a stand-in
}

// show translates an address of the engine's network into the student's
// subnet, keeping its offset in the block.
func (n *subnetNet) show(ip string) (string, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !n.actual.Contains(a) {
		return "", fmt.Errorf("the engine gave address %q, which is not in %s", ip, n.actual)
	}
	if n.actual == n.shown {
		return a.String(), nil
	}
	off := u32(a) - u32(n.actual.Addr())
	return addr(u32(n.shown.Addr()) + off).String(), nil
}

func u32(a netip.Addr) uint32 { b := a.As4(); return binary.BigEndian.Uint32(b[:]) }

func addr(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// createNetworks creates the networks of all subnets at once.
func createNetworks(ctx context.Context, g *grader.Grading, scope *sandbox.Scope, checkID string, subnets []netip.Prefix) ([]*subnetNet, error) {
	nets := make([]*subnetNet, len(subnets))
	errs := make([]error, len(subnets))
	var wg sync.WaitGroup
	for i, p := range subnets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nets[i], errs[i] = createNetwork(ctx, g, scope, checkID, p)
			if errs[i] == nil {
				g.Progress(checkID, "subnet %d: %s with .0, .1, .2, .3 and the last address reserved, %d usable", i+1, p, Usable(p.Bits()))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return nets, nil
}

// createNetwork creates the network standing for one subnet: the gateway
// takes the block's first host address (.1) and auxiliary addresses hold the
// next two (.2 and .3); the engine itself never hands out the network and
// broadcast addresses. Run phases of subnet gradings take turns, so a block
// in use belongs to something else on the engine: it waits a little for the
// block to be freed, then plays the subnet out in a stand-in block of the
// same size.
func createNetwork(ctx context.Context, g *grader.Grading, scope *sandbox.Scope, checkID string, p netip.Prefix) (*subnetNet, error) {
	waitUntil := time.Now().Add(overlapWait)
	if held.recently(p) {
		waitUntil = time.Now() // it was held a moment ago: ask once, then stand in
	}
	for try := 0; ; try++ {
		n, err := scope.Network(ctx, awsLayout(p))
		if err == nil {
			held.forget(p)
			return &subnetNet{net: n, shown: p, actual: p}, nil
		}
		if !isPoolOverlap(err) {
			return nil, fmt.Errorf("the network for subnet %s could not be created: %w", p, err)
		}
		if try == 0 {
			g.Logf("network %s: %v", p, err)
		}
		if time.Now().After(waitUntil) {
			held.remember(p)
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the address range %s stayed in use by another network on the container engine: %w", p, ctx.Err())
		case <-time.After(overlapRetry):
		}
	}
	if p.Bits() < standInBlock.Bits() {
		return nil, fmt.Errorf("the address range %s is held by another network on the container engine", p)
	}
	size := uint32(1) << (32 - p.Bits())
	count := min(uint32(1)<<(p.Bits()-standInBlock.Bits()), maxStandIns)
	for i := uint32(0); i < count && ctx.Err() == nil; i++ {
		alt := netip.PrefixFrom(addr(u32(standInBlock.Addr())+i*size), p.Bits())
		n, err := scope.Network(ctx, awsLayout(alt))
		if err == nil {
			g.Progress(checkID, "%s is held by another network on the container engine; it is played out in the stand-in block %s, of the same size", p, alt)
			return &subnetNet{net: n, shown: p, actual: alt}, nil
		}
		if !isPoolOverlap(err) {
			return nil, fmt.Errorf("the network for subnet %s could not be created: %w", p, err)
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("the address range %s is held by another network on the container engine: %w", p, ctx.Err())
	}
	return nil, fmt.Errorf("the address range %s is held by another network on the container engine, and so were the first %d stand-in blocks", p, count)
}

// awsLayout is the network spec of a block with AWS's reserved addresses.
func awsLayout(p netip.Prefix) sandbox.NetworkSpec {
	router := p.Addr().Next()
	dns := router.Next()
	future := dns.Next()
	return sandbox.NetworkSpec{Subnet: p.String(), Gateway: router.String(),
		Aux: map[string]string{"aws-dns": dns.String(), "aws-reserved": future.String()}}
}

func isPoolOverlap(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "pool overlaps")
}
