package dataplane

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.zx2c4.com/wireguard/tun"

	"github.com/patronus-sdwan/patronus/internal/edge/dataplane/classify"
	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/packet"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// Options are the engine's dependencies and fixed settings.
type Options struct {
	// Logger receives the engine's and WireGuard's logs.
	Logger *slog.Logger
	// Stats counts every classified packet against its policy (policy
	// ID 0 for unmatched traffic). Nil counts nothing.
	Stats *stats.Collector
	// OnEvent, if set, receives every failover, failback and forced
	// failover, in order, from the goroutine that caused it.
	OnEvent func(Event)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// AfterFunc runs f after d, for the end of a hold-down, and returns a
	// function that cancels it; time.AfterFunc when nil.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// MTU is the tunnels' inner MTU; 1420 (WireGuard's default) when zero.
	MTU int
	// FlowCapacity bounds the flow table; 1<<16 flows when zero.
	FlowCapacity int
	// FlowIdle is how long an idle flow keeps its path; 2 minutes when
	// zero.
	FlowIdle time.Duration
}

// Engine is one site's data plane. Create it with New, drive it with Set,
// UpdatePath, Force and ClearForce (all safe for concurrent use and safe
// to repeat), and Close it.
type Engine struct {
	site tun.Device
	log  *slog.Logger
	opts Options
	pool *batchPool

	snap atomic.Pointer[snapshot]

	// The classifier and the fragment table belong to the holder of the
	// read token (see readSite).
	cls   *classify.Classifier
	frags *packet.FragTable

	// Reading the site device: see readSite.
	siteBatch int         // packets asked of the site device in one read
	reads     *readToken  // joined by the path devices
	pending   []*batch    // scratch of the token holder, by path handle
	closing   atomic.Bool // set by Close, read by the readers without mu
	devices   sync.WaitGroup

	mu     sync.Mutex // guards what follows, and serialises control
	evMu   sync.Mutex // keeps events in order; taken before mu is released
	closed bool
	ctl    control

	counters engineCounters
}

// snapshot is what the packet paths read: replaced whole on every change.
type snapshot struct {
	table *classify.Table
	paths []*pathTun // by handle; nil where no path
	local []netip.Prefix
}

// engineCounters count the packets the engine did not forward, by reason.
type engineCounters struct {
	txPackets  atomic.Uint64 // read from the site device
	badPackets atomic.Uint64 // unparsable
	noRoute    atomic.Uint64 // no peer holds the destination
	policyDrop atomic.Uint64 // dropped by a policy
	noPath     atomic.Uint64 // no usable path to the peer
	rxFiltered atomic.Uint64 // decrypted, but not for the site's prefixes
	rxErrors   atomic.Uint64 // the site device refused a write
}

// New starts an engine reading site, which it owns from now on: Close
// closes it. The engine forwards nothing until Set gives it paths.
func New(site tun.Device, opts Options) (*Engine, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AfterFunc == nil {
		opts.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if opts.MTU == 0 {
		opts.MTU = 1420
	}
	if opts.FlowCapacity == 0 {
		opts.FlowCapacity = 1 << 16
	}
	if opts.FlowIdle == 0 {
		opts.FlowIdle = 2 * time.Minute
	}
	siteMTU, err := site.MTU()
	if err != nil {
		return nil, fmt.Errorf("dataplane: site device MTU: %w", err)
	}
	e := &Engine{
		site:      site,
		log:       opts.Logger,
		opts:      opts,
		pool:      newBatchPool(max(siteMTU, opts.MTU)),
		cls:       classify.NewClassifier(classify.NewFlowTable(opts.FlowCapacity, uint32(opts.FlowIdle/tick))),
		frags:     packet.NewFragTable(1024, 0, opts.Now),
		siteBatch: min(site.BatchSize(), batchSize),
		reads:     newReadToken(),
	}
	e.ctl.init()
	empty, err := e.ctl.compile(nil)
	if err != nil {
		return nil, err
	}
	e.snap.Store(&snapshot{table: &classify.Table{Rules: empty, EligibleWords: 1}})
	e.reads.startStandIn(func() readResult {
		_, r := e.readSite(nil) // nothing is the stand-in's own
		return r
	})
	return e, nil
}

// tick is the resolution of the flow table's clock.
const tick = time.Second / 64

func (e *Engine) ticks() uint32 { return uint32(e.opts.Now().UnixNano() / int64(tick)) }

// Set applies cfg: links, tunnels, peers, paths and policies. It changes
// only what differs from the current state, so repeating it is cheap and
// keeps every tunnel's session, and policies take effect at once (each
// flow re-checks its decision on its next packet).
func (e *Engine) Set(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return errors.New("dataplane: engine closed")
	}
	err := e.applyLocked(cfg)
	evs := e.rebuildLocked()
	e.deliverUnlock(evs)
	return err
}

// applyLocked reconciles links and tunnels to cfg and recompiles the rules.
func (e *Engine) applyLocked(cfg Config) error {
	c := &e.ctl
	if cfg.HoldDown == 0 {
		cfg.HoldDown = DefaultHoldDown
	}
	if cfg.Keepalive == 0 {
		cfg.Keepalive = DefaultKeepalive
	}
	// Links: new ones start, replaced or removed ones close after the
	// tunnels on them.
	var closeLinks []*link
	want := map[string]Link{}
	for _, l := range cfg.Links {
		want[l.Name] = l
	}
	for name, l := range c.links {
		if w, ok := want[name]; !ok || w.Conn != l.conn {
			closeLinks = append(closeLinks, l)
			delete(c.links, name)
		}
	}
	for _, l := range cfg.Links {
		if c.links[l.Name] == nil {
			c.links[l.Name] = newLink(l.Name, l.Conn, e.log)
		}
	}
	peers := map[string]Peer{}
	for _, p := range cfg.Peers {
		peers[p.ID] = p
	}
	// Tunnels: one per path, replaced when its link or endpoint changes.
	var errs []error
	keep := map[string]bool{}
	for _, p := range cfg.Paths {
		keep[p.ID] = true
		l := c.links[p.Link]
		t := c.tunnels[p.ID]
		if t != nil && (t.link != l || t.remote != p.Remote) {
			e.removeTunnelLocked(p.ID)
			t = nil
		}
		if t == nil {
			h := c.allocHandle()
			name := fmt.Sprintf("ptn%d-%d", c.instance, h)
			t = newTunnel(p.ID, name, l, p.Remote, e.opts.MTU, e.pathIO(), e.log)
			e.reads.join()
			c.tunnels[p.ID] = t
			c.handles[p.ID] = h
			c.byHandle[h] = t
			if _, ok := c.states[p.ID]; !ok {
				// Until the path monitor reports, a configured path is
				// assumed usable, so traffic flows from the start.
				c.states[p.ID] = &pathState{status: sdwan.PathUp}
			}
		}
		peer := peers[p.Peer]
		tc := tunnelConfig{private: cfg.PrivateKey, peer: peer.PublicKey, remote: p.Remote,
			allowed: prefixList(peer.Prefixes), keepalive: max(cfg.Keepalive, 0)}
		if err := t.configure(tc); err != nil {
			errs = append(errs, err)
		}
	}
	for id := range c.tunnels {
		if !keep[id] {
			e.removeTunnelLocked(id)
			delete(c.states, id)
		}
	}
	for _, l := range closeLinks {
		e.closeLink(l)
	}
	for _, l := range c.links {
		l.start()
	}
	c.cfg = cfg
	rules, err := c.compile(&cfg)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	c.rules = rules
	// New rules renumber the slots, and the handles may have moved: the
	// flows must look themselves up again.
	c.gen++
	return errors.Join(errs...)
}

// closeLink closes a link's socket; a socket closed already is no news.
func (e *Engine) closeLink(l *link) {
	if err := l.close(); err != nil && !errors.Is(err, net.ErrClosed) {
		e.log.Warn("dataplane: close link", "link", l.name, "err", err)
	}
}

func (e *Engine) removeTunnelLocked(id string) {
	c := &e.ctl
	t := c.tunnels[id]
	if t == nil {
		return
	}
	// The device closes in the background: its reader may be blocked
	// reading the site device for every path (see readSite), and returns
	// only with the next packet, or when Close closes the site device.
	t.unhook()
	e.devices.Go(t.dev.Close)
	e.reads.leave()
	h := c.handles[id]
	delete(c.tunnels, id)
	delete(c.handles, id)
	c.byHandle[h] = nil
	c.freeHandles = append(c.freeHandles, h)
}

// pathIO returns the engine's side of a new path device.
func (e *Engine) pathIO() pathIO {
	return pathIO{recv: e.receiver(), pool: e.pool, reads: e.reads, readSite: e.readSite}
}

// receiver returns the receive function of a new tunnel: packets its device
// decrypted go to the site device if they are for the site's prefixes.
// WireGuard calls it from the peer's one receive goroutine, so the scratch
// slice needs no lock.
func (e *Engine) receiver() func([][]byte, int) {
	var kept [][]byte
	return func(bufs [][]byte, offset int) {
		local := e.snap.Load().local
		kept = kept[:0]
		for _, b := range bufs {
			if dst, ok := dstAddr(b[offset:]); ok && containsAddr(local, dst) {
				kept = append(kept, b)
			} else {
				e.counters.rxFiltered.Add(1)
			}
		}
		if len(kept) == 0 {
			return
		}
		if _, err := e.site.Write(kept, offset); err != nil {
			e.counters.rxErrors.Add(uint64(len(kept)))
		}
	}
}

// dstAddr reads the destination of an IP packet.
func dstAddr(p []byte) (netip.Addr, bool) {
	if len(p) < 20 {
		return netip.Addr{}, false
	}
	switch p[0] >> 4 {
	case 4:
		return netip.AddrFrom4([4]byte(p[16:20])), true
	case 6:
		if len(p) >= 40 {
			return netip.AddrFrom16([16]byte(p[24:40])), true
		}
	}
	return netip.Addr{}, false
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// The site device is read by the path devices themselves: a path device
// that has no packets queued reads the site device in the goroutine that
// asked (WireGuard's TUN reader for that path), classifies what it read,
// keeps its own packets and queues the others for their paths. A TCP
// stream's packets so reach their tunnel without changing goroutine, as in
// plain wireguard-go; handing every batch from one engine goroutine to the
// path's cost a tenth of the throughput. One read token serialises the
// readers, so every path gets its packets in the order they were read
// (see readToken).
// A stand-in reader reads while there are no path devices, so that packets
// are still read, counted and dropped.

// readSite reads one batch from the site device, classifies it, queues
// the packets for paths other than own and returns own's, if any. The
// caller holds the read token.
func (e *Engine) readSite(own *pathTun) (*batch, readResult) {
	b := e.pool.get()
	n, err := e.site.Read(b.bufs[:e.siteBatch], b.sizes, batchOffset)
	if err != nil {
		e.pool.put(b)
		if errors.Is(err, os.ErrClosed) || e.closing.Load() {
			return nil, readClosed
		}
		if !errors.Is(err, tun.ErrTooManySegments) { // else the device dropped a GSO packet it could not split
			e.log.Warn("dataplane: site read", "err", err)
			time.Sleep(10 * time.Millisecond)
		}
		return nil, readOthers
	}
	if mine := e.route(b, n, own); mine != nil {
		return mine, readMine
	}
	return nil, readOthers
}

// route classifies the n packets of b and queues them for their paths,
// whole when they all take one path (the usual case: a batch of one flow,
// or of flows on one path), and returns own's packets.
func (e *Engine) route(b *batch, n int, own *pathTun) *batch {
	var dest [batchSize]int32
	b.n = n
	snap := e.snap.Load()
	now := e.ticks()
	e.counters.txPackets.Add(uint64(n))
	same := true
	for i := range n {
		dest[i] = e.decide(b.bufs[i][batchOffset:batchOffset+b.sizes[i]], snap, now)
		if dest[i] != dest[0] {
			same = false
		}
	}
	if n == 0 {
		e.pool.put(b)
		return nil
	}
	if same {
		return e.handTo(snap.path(dest[0]), b, own)
	}
	if len(e.pending) < len(snap.paths) {
		e.pending = make([]*batch, len(snap.paths))
	}
	pending := e.pending
	for i := range n {
		h := dest[i]
		if snap.path(h) == nil {
			continue
		}
		pb := pending[h]
		if pb == nil {
			pb = e.pool.get()
			pending[h] = pb
		}
		// Buffers of one pool are interchangeable: swap, not copy.
		pb.bufs[pb.n], b.bufs[i] = b.bufs[i], pb.bufs[pb.n]
		pb.sizes[pb.n] = b.sizes[i]
		pb.n++
	}
	e.pool.put(b)
	var mine *batch
	for h, pb := range pending {
		if pb != nil {
			pending[h] = nil
			if m := e.handTo(snap.paths[h], pb, own); m != nil {
				mine = m
			}
		}
	}
	return mine
}

// handTo returns b if it is for own, or queues it for pt, or frees it if
// there is no pt.
func (e *Engine) handTo(pt *pathTun, b *batch, own *pathTun) *batch {
	switch pt {
	case nil:
		e.pool.put(b)
	case own:
		return b
	default:
		pt.send(b)
	}
	return nil
}

func (s *snapshot) path(h int32) *pathTun {
	if h < 0 || int(h) >= len(s.paths) {
		return nil
	}
	return s.paths[h]
}

// decide classifies one packet, counts it, and returns its path handle or
// classify.NoPath.
func (e *Engine) decide(pkt []byte, snap *snapshot, now uint32) int32 {
	// Decode in place: Parse would return the packet by value, a copy the
	// packet path need not make.
	var p packet.Packet
	if err := p.Decode(pkt); err != nil {
		e.counters.badPackets.Add(1)
		return classify.NoPath
	}
	if p.Fragmented() {
		e.frags.Resolve(&p)
	}
	r := e.cls.Classify(&p.Key, snap.table, now)
	switch {
	case r.NoRoute:
		e.counters.noRoute.Add(1)
		return classify.NoPath
	case r.Drop:
		e.counters.policyDrop.Add(1)
	case r.Path == classify.NoPath:
		e.counters.noPath.Add(1)
	}
	if e.opts.Stats != nil {
		e.opts.Stats.RecordPacket(r.PolicyID, p.Key, p.Length)
	}
	return r.Path
}

// ProbeConn returns the probe side of a link's socket, for the path
// monitor's probe.Mux: it receives the probe packets arriving on the link
// and sends through the link, so probes cross exactly what the tunnels
// cross. Asking again detaches the previous one. Closing it leaves the
// link open.
func (e *Engine) ProbeConn(linkName string) (probe.PacketConn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.ctl.links[linkName]
	if l == nil {
		return nil, fmt.Errorf("dataplane: no link %q", linkName)
	}
	return l.newProbeConn(), nil
}

// Close stops the engine: the site device, every tunnel and every link's
// socket are closed, and every goroutine the engine started has returned.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.closing.Store(true)
	c := &e.ctl
	c.stopTimer()
	// Close the site device unlocked: a reader blocked on it returns once
	// it is closed, and one that fails with anything but os.ErrClosed (the
	// kernel TUN's "netlink socket closed") checks e.closing.
	e.mu.Unlock()
	err := e.site.Close()
	e.reads.close()
	e.mu.Lock()
	for id := range c.tunnels {
		e.removeTunnelLocked(id)
	}
	// Closing the sockets returns the devices' receive functions that
	// are reading them; a device still sending sees net.ErrClosed.
	for name, l := range c.links {
		e.closeLink(l)
		delete(c.links, name)
	}
	e.mu.Unlock()
	e.devices.Wait()
	return err
}

// PathStats are one path's counters and state.
type PathStats struct {
	ID     string
	Link   string
	Remote netip.AddrPort
	Status sdwan.PathStatus
	// TxPackets and TxBytes count the inner packets handed to the path's
	// tunnel; RxPackets and RxBytes those it decrypted.
	TxPackets, TxBytes uint64
	RxPackets, RxBytes uint64
	// RxDropped counts datagrams from the path's endpoint dropped because
	// its tunnel was not keeping up.
	RxDropped uint64
}

// Stats are the engine's counters.
type Stats struct {
	Paths                        []PathStats // ordered by ID
	SitePackets                  uint64      // read from the site device
	BadPackets, NoRoute, NoPath  uint64
	PolicyDrops                  uint64
	RxFiltered, RxErrors         uint64
	UnknownSource, ProbesDropped uint64
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s Stats
	for id, t := range e.ctl.tunnels {
		s.Paths = append(s.Paths, PathStats{
			ID: id, Link: t.link.name, Remote: t.remote, Status: e.ctl.states[id].status,
			TxPackets: t.stats.txPackets.Load(), TxBytes: t.stats.txBytes.Load(),
			RxPackets: t.stats.rxPackets.Load(), RxBytes: t.stats.rxBytes.Load(),
			RxDropped: t.bind.dropped.Load(),
		})
	}
	slices.SortFunc(s.Paths, func(a, b PathStats) int { return strings.Compare(a.ID, b.ID) })
	for _, l := range e.ctl.links {
		s.UnknownSource += l.unknown.Load()
		if pc := l.probe.Load(); pc != nil {
			s.ProbesDropped += pc.dropped.Load()
		}
	}
	c := &e.counters
	s.SitePackets, s.BadPackets, s.NoRoute, s.NoPath = c.txPackets.Load(), c.badPackets.Load(), c.noRoute.Load(), c.noPath.Load()
	s.PolicyDrops, s.RxFiltered, s.RxErrors = c.policyDrop.Load(), c.rxFiltered.Load(), c.rxErrors.Load()
	return s
}
