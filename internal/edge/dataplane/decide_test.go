package dataplane

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.zx2c4.com/wireguard/tun/tuntest"

	"github.com/patronus-sdwan/patronus/internal/edge/dataplane/classify"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// memConn is a link socket that nobody answers: enough for decisions.
type memConn struct {
	addr   netip.AddrPort
	closed chan struct{}
}

func newMemConn(port uint16) *memConn {
	return &memConn{addr: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), port), closed: make(chan struct{})}
}

func (c *memConn) ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error) {
	<-c.closed
	return 0, netip.AddrPort{}, net.ErrClosed
}
func (c *memConn) WriteToUDPAddrPort(b []byte, _ netip.AddrPort) (int, error) { return len(b), nil }
func (c *memConn) LocalAddr() net.Addr                                        { return net.UDPAddrFromAddrPort(c.addr) }
func (c *memConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}

// fakeClock drives the engine's hold-down timers by hand. The decision
// tests cannot run in a testing/synctest bubble: wireguard-go's queues
// have finalizers that touch the bubble's channels from outside it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// advance moves the clock on, firing the timers that fall due, in order.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.stopped && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			break
		}
		next.stopped = true
		c.now = next.at
		c.mu.Unlock()
		next.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// decider is an engine without traffic, watched through its tables: flows
// are classified by a classifier of the test's own, as the packet path
// would classify them.
type decider struct {
	t      *testing.T
	e      *Engine
	clk    *fakeClock
	cls    *classify.Classifier
	mu     sync.Mutex
	events []Event
}

func newDecider(t *testing.T, failback Failback, policies ...sdwan.Policy) *decider {
	checkLeaks(t)
	d := &decider{t: t, clk: &fakeClock{now: time.Unix(1e9, 0)}, cls: classify.NewClassifier(classify.NewFlowTable(64, 1<<30))}
	e, err := New(tuntest.NewChannelTUN().TUN(), Options{Logger: discard(), Now: d.clk.Now, AfterFunc: d.clk.AfterFunc, OnEvent: func(ev Event) {
		ev.Time = time.Time{}
		d.mu.Lock()
		d.events = append(d.events, ev)
		d.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	d.e = e
	t.Cleanup(func() { e.Close() })
	priv, _ := GeneratePrivateKey()
	peer, _ := GeneratePrivateKey()
	cfg := Config{
		PrivateKey: priv,
		Prefixes:   []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")},
		Peers:      []Peer{{ID: "b", PublicKey: peer.PublicKey(), Prefixes: []netip.Prefix{netip.MustParsePrefix("10.2.0.0/24")}}},
		Policies:   policies,
		HoldDown:   2 * time.Second,
		Failback:   failback,
		Links: []Link{
			{Name: "wan1", Conn: newMemConn(1), CostPerGB: 5},
			{Name: "wan2", Conn: newMemConn(2), CostPerGB: 1},
		},
		Paths: []Path{
			{ID: "p1", Link: "wan1", Peer: "b", Remote: netip.MustParseAddrPort("192.0.2.2:1")},
			{ID: "p2", Link: "wan2", Peer: "b", Remote: netip.MustParseAddrPort("192.0.2.2:2")},
		},
	}
	if err := e.Set(cfg); err != nil {
		t.Fatal(err)
	}
	d.update("p1", sdwan.PathUp, 95, 20)
	d.update("p2", sdwan.PathUp, 80, 40)
	return d
}

func (d *decider) update(id string, st sdwan.PathStatus, score int, latency float64) {
	d.t.Helper()
	if err := d.e.UpdatePath(id, st, sdwan.PathMetrics{PathID: id, Score: score, LatencyMs: latency}); err != nil {
		d.t.Fatal(err)
	}
}

// path classifies a packet of flow k and returns its path ID.
func (d *decider) path(k sdwan.FlowKey) string {
	snap := d.e.snap.Load()
	r := d.cls.Classify(&k, snap.table, 0)
	if r.Path == classify.NoPath {
		return ""
	}
	return snap.paths[r.Path].name2id(d.e)
}

// name2id maps a path device back to its path ID, for tests.
func (t *pathTun) name2id(e *Engine) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, tn := range e.ctl.tunnels {
		if tn.tun == t {
			return id
		}
	}
	return "?"
}

func (d *decider) takeEvents() []Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	evs := d.events
	d.events = nil
	return evs
}

var (
	flowA = sdwan.NewFlowKey(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.1"), 1000, 443, sdwan.ProtoTCP)
	flowB = sdwan.NewFlowKey(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.1"), 1001, 443, sdwan.ProtoTCP)
	flowC = sdwan.NewFlowKey(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.1"), 1002, 443, sdwan.ProtoTCP)
)

func checkEvents(t *testing.T, got []Event, want ...Event) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestFailoverAndFailback(t *testing.T) {
	d := newDecider(t, FailbackAfterHoldDown)
	d.takeEvents()
	if got := d.path(flowA); got != "p1" {
		t.Fatalf("best quality path is %s, want p1", got)
	}
	d.update("p1", sdwan.PathDown, 0, 0)
	checkEvents(t, d.takeEvents(), Event{Kind: EventFailover, Policies: []int64{0}, Peer: "b", From: "p1", To: "p2", Reason: "path p1 is down"})
	if got := d.path(flowA); got != "p2" {
		t.Fatalf("after p1 went down the flow is on %s, want p2", got)
	}
	// p1 recovers: new flows and old stay on p2 during the hold-down.
	d.update("p1", sdwan.PathUp, 95, 20)
	d.clk.advance(time.Second)
	if got := d.path(flowB); got != "p2" {
		t.Errorf("a new flow in p1's hold-down took %s, want p2", got)
	}
	checkEvents(t, d.takeEvents())
	d.clk.advance(time.Second + time.Millisecond)
	checkEvents(t, d.takeEvents(), Event{Kind: EventFailback, Policies: []int64{0}, Peer: "b", From: "p2", To: "p1", Reason: "path p1 recovered and held up for 2s"})
	for _, k := range []sdwan.FlowKey{flowA, flowB, flowC} {
		if got := d.path(k); got != "p1" {
			t.Errorf("after the hold-down flow %v is on %s, want p1", k, got)
		}
	}
}

func TestFailbackNeverKeepsFlows(t *testing.T) {
	d := newDecider(t, FailbackNever)
	d.path(flowA)
	d.update("p1", sdwan.PathDown, 0, 0)
	d.path(flowA)
	d.update("p1", sdwan.PathUp, 95, 20)
	d.clk.advance(3 * time.Second)
	if got := d.path(flowA); got != "p2" {
		t.Errorf("sticky flow moved back to %s, want it on p2", got)
	}
	if got := d.path(flowB); got != "p1" {
		t.Errorf("new flow after the hold-down took %s, want p1", got)
	}
}

func TestSLABreachAndPreferences(t *testing.T) {
	video := sdwan.Policy{ID: 5, Priority: 1, Enabled: true,
		Match:  sdwan.Match{Protocol: sdwan.ProtoTCP, DstPorts: []sdwan.PortRange{{Lo: 443, Hi: 443}}},
		Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferCost, SLA: sdwan.SLA{MaxLatencyMs: 50}}}
	bulk := sdwan.Policy{ID: 6, Priority: 2, Enabled: true,
		Match:  sdwan.Match{Protocol: sdwan.ProtoUDP},
		Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferLink, Link: "wan1"}}
	d := newDecider(t, FailbackAfterHoldDown, video, bulk)
	d.takeEvents()
	// Lowest cost among paths meeting the SLA: p2 is cheaper.
	if got := d.path(flowA); got != "p2" {
		t.Fatalf("lowest cost path is %s, want p2", got)
	}
	d.update("p2", sdwan.PathUp, 80, 70)
	evs := d.takeEvents()
	checkEvents(t, evs, Event{Kind: EventFailover, Policies: []int64{5}, Peer: "b", From: "p2", To: "p1",
		Reason: "path p2 breaks the SLA (latency 70.0 ms > 50.0 ms)"})
	if got := d.path(flowA); got != "p1" {
		t.Errorf("flow breaking its SLA stayed on %s, want p1", got)
	}
	// Both break it: traffic stays where it is rather than nowhere.
	d.update("p1", sdwan.PathUp, 90, 60)
	if got := d.path(flowA); got != "p1" {
		t.Errorf("with no path meeting the SLA the flow went to %s, want it kept on p1", got)
	}
	udp := sdwan.NewFlowKey(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.1"), 1, 2, sdwan.ProtoUDP)
	if got := d.path(udp); got != "p1" {
		t.Errorf("named link wan1 gave %s, want p1", got)
	}
	d.update("p1", sdwan.PathDown, 0, 0)
	if got := d.path(udp); got != "p2" {
		t.Errorf("named link down: flow on %s, want p2", got)
	}
}

func TestForcedFailover(t *testing.T) {
	d := newDecider(t, FailbackAfterHoldDown)
	d.takeEvents()
	if got := d.path(flowA); got != "p1" {
		t.Fatalf("flow on %s, want p1", got)
	}
	if err := d.e.Force(0, "p2"); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, d.takeEvents(), Event{Kind: EventForced, Policies: []int64{0}, Peer: "b", From: "p1", To: "p2", Reason: "operator forced traffic onto path p2"})
	if got := d.path(flowA); got != "p2" {
		t.Errorf("forced flow on %s, want p2", got)
	}
	d.e.ClearForce(0)
	checkEvents(t, d.takeEvents(), Event{Kind: EventForced, Policies: []int64{0}, Peer: "b", From: "p2", To: "p1", Reason: "operator cleared the forced failover onto path p2"})
	if got := d.path(flowA); got != "p1" {
		t.Errorf("after clearing, flow on %s, want p1", got)
	}
	if err := d.e.Force(0, "nope"); err == nil {
		t.Error("forcing an unknown path succeeded")
	}
}

func TestSetIsIdempotent(t *testing.T) {
	d := newDecider(t, FailbackAfterHoldDown)
	d.path(flowA)
	d.e.mu.Lock()
	cfg := d.e.ctl.cfg
	devs := map[string]*tunnel{}
	for id, tn := range d.e.ctl.tunnels {
		devs[id] = tn
	}
	d.e.mu.Unlock()
	for range 3 {
		if err := d.e.Set(cfg); err != nil {
			t.Fatal(err)
		}
	}
	d.e.mu.Lock()
	for id, tn := range d.e.ctl.tunnels {
		if devs[id] != tn {
			t.Errorf("repeating Set replaced path %s's tunnel", id)
		}
	}
	d.e.mu.Unlock()
	if got := d.path(flowA); got != "p1" {
		t.Errorf("flow on %s after repeated Set, want p1", got)
	}
	// Removing a path closes its tunnel and moves its flows.
	cfg.Paths = slices.DeleteFunc(slices.Clone(cfg.Paths), func(p Path) bool { return p.ID == "p1" })
	if err := d.e.Set(cfg); err != nil {
		t.Fatal(err)
	}
	if got := d.path(flowA); got != "p2" {
		t.Errorf("flow on %s after its path was removed, want p2", got)
	}
}

// TestUpdatePathsAppliesTheBatch checks that verdicts given together take
// effect together, as one by one, and that an unknown path is reported
// without holding back the others.
func TestUpdatePathsAppliesTheBatch(t *testing.T) {
	d := newDecider(t, FailbackAfterHoldDown)
	d.takeEvents()
	err := d.e.UpdatePaths([]PathUpdate{
		{ID: "p1", Status: sdwan.PathDown},
		{ID: "nope", Status: sdwan.PathUp},
		{ID: "p2", Status: sdwan.PathUp, Metrics: sdwan.PathMetrics{PathID: "p2", Score: 99, LatencyMs: 5}},
	})
	if !errors.Is(err, ErrUnknownPath) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("UpdatePaths error = %v, want ErrUnknownPath naming nope", err)
	}
	checkEvents(t, d.takeEvents(), Event{Kind: EventFailover, Policies: []int64{0}, Peer: "b", From: "p1", To: "p2", Reason: "path p1 is down"})
	if got := d.path(flowA); got != "p2" {
		t.Errorf("after the batch the flow is on %s, want p2", got)
	}
}
