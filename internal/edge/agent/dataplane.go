package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.zx2c4.com/wireguard/tun"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/edge/dataplane"
	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// DataPlane makes the agent carry the site's traffic: it runs a
// dataplane.Engine over the site device, hands it every link's socket (the
// probes then share that socket through the engine), reconciles it to the
// controller's configuration (and, with Routes, the device's address and
// routes to the peers' prefixes), feeds it the path monitor's verdicts,
// and reports per-policy traffic and failovers to the controller.
type DataPlane struct {
	// PrivateKey is the site's WireGuard private key. It never leaves the
	// edge: the agent registers only its public key.
	PrivateKey dataplane.Key
	// Device opens the site device once the controller has told the site
	// its prefixes: a kernel TUN, or a netstack holding the first
	// prefix's address. The engine owns and closes it.
	Device func(prefixes []netip.Prefix) (tun.Device, error)
	// Routes, if set, gives the device the site's address and routes to
	// the peers' prefixes, reconciled with every configuration, and takes
	// them away when the agent ends: for a kernel TUN.
	Routes SiteRoutes
	// Stats counts the traffic per policy; nil makes a collector of
	// FlowCapacity flows.
	Stats *stats.Collector
	// FlowCapacity bounds the flow tables; 1<<16 when zero.
	FlowCapacity int
	// HoldDown and Failback tune failback (see dataplane.Config).
	HoldDown time.Duration
	Failback dataplane.Failback
	// StatsInterval is how often traffic is reported; 1 s when zero.
	StatsInterval time.Duration
	// EdgeName tells this edge's reports apart from another edge of the
	// same site; "edge" when empty.
	EdgeName string
}

// feedInterval is how often the path monitor's metrics are handed to the
// engine between state changes, so that SLA decisions see current
// latency, jitter and loss; state changes are handed over at once.
const feedInterval = 250 * time.Millisecond

// maxPendingEvents bounds the flow events kept while the controller is
// away.
const maxPendingEvents = 1000

// dpState is the agent's data plane at run time.
type dpState struct {
	cfg      DataPlane
	public   string // the public key, base64
	coll     *stats.Collector
	engine   *dataplane.Engine // nil until the first configuration
	reporter *stats.Reporter   // idem
	keySent  string            // the last key registration attempted, per config version
}

func newDPState(cfg DataPlane) (*dpState, error) {
	if cfg.PrivateKey.IsZero() {
		return nil, errors.New("agent: the data plane needs the site's private key")
	}
	if cfg.Device == nil {
		return nil, errors.New("agent: the data plane needs a site device")
	}
	if cfg.FlowCapacity <= 0 {
		cfg.FlowCapacity = 1 << 16
	}
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = time.Second
	}
	if cfg.EdgeName == "" {
		cfg.EdgeName = "edge"
	}
	d := &dpState{cfg: cfg, public: cfg.PrivateKey.PublicKey().String(), coll: cfg.Stats}
	return d, nil
}

// Engine returns the agent's data plane engine, nil before the first
// configuration or without a data plane.
func (a *Agent) Engine() *dataplane.Engine {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dp == nil {
		return nil
	}
	return a.dp.engine
}

// Traffic returns the collector counting the site's traffic per policy,
// nil without a data plane.
func (a *Agent) Traffic() *stats.Collector {
	if a.dp == nil {
		return nil
	}
	return a.dp.coll
}

// PublicKey returns the site's WireGuard public key, "" without a data
// plane.
func (a *Agent) PublicKey() string {
	if a.dp == nil {
		return ""
	}
	return a.dp.public
}

// startEngineLocked opens the site device and starts the engine at the
// first configuration.
func (a *Agent) startEngineLocked(cfg edgeapi.Config) error {
	d := a.dp
	if d.engine != nil {
		return nil
	}
	dev, err := d.cfg.Device(cfg.Site.Prefixes)
	if err != nil {
		return fmt.Errorf("agent: site device: %w", err)
	}
	eng, err := dataplane.New(dev, dataplane.Options{
		Logger: a.log, Stats: d.coll, OnEvent: a.rep.flowEvent, Now: a.now,
		FlowCapacity: d.cfg.FlowCapacity,
	})
	if err != nil {
		dev.Close()
		return err
	}
	d.engine = eng
	d.reporter = stats.NewReporter(stats.ReporterConfig{Source: d.coll, Edge: d.cfg.EdgeName, Site: cfg.Site.ID, Now: a.now})
	return nil
}

// engineConfigLocked builds the engine's configuration from the
// controller's and the links the agent has open. Peers whose edge has not
// registered a key yet are left out with their paths: no tunnel can reach
// them.
func (a *Agent) engineConfigLocked(cfg edgeapi.Config) (dataplane.Config, error) {
	var errs []error
	dc := dataplane.Config{
		PrivateKey: a.dp.cfg.PrivateKey, Prefixes: cfg.Site.Prefixes, Policies: cfg.Policies,
		HoldDown: a.dp.cfg.HoldDown, Failback: a.dp.cfg.Failback,
	}
	names := map[string]string{} // link ID -> name, of the open links
	for id, l := range a.links {
		if l.conn == nil {
			continue
		}
		names[id] = l.spec.Name
		dc.Links = append(dc.Links, dataplane.Link{Name: l.spec.Name, Conn: l.conn, CostPerGB: l.spec.CostPerGB})
	}
	peers := map[string]bool{}
	for _, p := range cfg.Peers {
		if p.PublicKey == "" {
			continue
		}
		k, err := dataplane.ParseKey(p.PublicKey)
		if err != nil || k.IsZero() {
			errs = append(errs, fmt.Errorf("peer %s: bad public key %q", p.Name, p.PublicKey))
			continue
		}
		peers[p.ID] = true
		dc.Peers = append(dc.Peers, dataplane.Peer{ID: p.ID, PublicKey: k, Prefixes: p.Prefixes})
	}
	for _, p := range cfg.Paths {
		name, ok := names[p.SrcLinkID]
		if !ok || !peers[p.DstSiteID] {
			continue
		}
		dc.Paths = append(dc.Paths, dataplane.Path{ID: p.ID, Link: name, Peer: p.DstSiteID, Remote: p.Remote})
	}
	return dc, errors.Join(errs...)
}

// setEngineLocked applies the configuration to the engine and the site
// device's routes.
func (a *Agent) setEngineLocked(cfg edgeapi.Config) error {
	dc, err := a.engineConfigLocked(cfg)
	return errors.Join(err, a.dp.engine.Set(dc), a.setRoutesLocked(dc))
}

// attachProbesLocked gives every link opened by this Apply its probe side
// of the engine's socket. A link the engine did not take (its
// configuration was refused) is closed, to be opened again next time.
func (a *Agent) attachProbesLocked() error {
	var errs []error
	for id, l := range a.links {
		if l.mux != nil {
			continue
		}
		pc, err := a.dp.engine.ProbeConn(l.spec.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("link %s: %w", l.spec.Name, err))
			l.conn.Close()
			delete(a.links, id)
			continue
		}
		l.mux = probe.NewMux(pc, a.log.With("link", l.spec.Name), a.now)
	}
	return errors.Join(errs...)
}

// feedEngine hands every path's current metrics to the engine.
func (a *Agent) feedEngine() {
	eng := a.Engine()
	if eng == nil {
		return
	}
	type item struct {
		id      string
		pr      *probe.Prober
		settled time.Time
	}
	a.mu.Lock()
	items := make([]item, 0, len(a.paths))
	for id, e := range a.paths {
		items = append(items, item{id, e.prober, e.settled})
	}
	a.mu.Unlock()
	updates := make([]dataplane.PathUpdate, 0, len(items))
	for _, it := range items {
		if m := it.pr.Metrics(); a.verdictCounts(it.settled, m) {
			id, st, pm := dataplane.FromProbe(it.id, m)
			updates = append(updates, dataplane.PathUpdate{ID: id, Status: st, Metrics: pm})
		}
	}
	// One recomputation for every path; ErrUnknownPath names paths whose
	// peer has no key yet, which the engine leaves out until it has one.
	_ = eng.UpdatePaths(updates)
}

// startupProbes is how many unanswered probes make a new path Down for
// the data plane before its monitor has settled.
const startupProbes = 5

// verdictCounts says whether the monitor's view of a path should reach the
// engine: always once the monitor has settled or said anything but Down;
// before that, Down counts only when the first probes went unanswered.
func (a *Agent) verdictCounts(settled time.Time, m probe.Metrics) bool {
	if m.State != probe.StateDown || !a.now().Before(settled) {
		return true
	}
	return m.Received == 0 && m.Sent >= startupProbes
}

// maybeRegisterKey registers the site's public key when the controller's
// configuration does not carry it yet, once per configuration version.
func (a *Agent) maybeRegisterKey(ctx context.Context, cfg edgeapi.Config) {
	d := a.dp
	if d == nil || cfg.Site.PublicKey == d.public {
		return
	}
	a.mu.Lock()
	if d.keySent == cfg.Version {
		a.mu.Unlock()
		return
	}
	d.keySent = cfg.Version
	a.mu.Unlock()
	a.checks.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, reportTimeout)
		defer cancel()
		if err := a.client.RegisterKey(cctx, d.public); err != nil {
			a.log.Warn("register the WireGuard key", "err", err)
			a.mu.Lock()
			d.keySent = "" // try again with the next message
			a.mu.Unlock()
			return
		}
		a.log.Info("registered the WireGuard key", "public_key", d.public)
	})
}

// dpFailover is the failoverPath operation on the engine: target forces
// the site's traffic onto that path; target equal to the path clears a
// forced failover; no target moves it to the best other eligible path to
// the same peer.
func (a *Agent) dpFailover(_ context.Context, pathID, target, _ string) error {
	eng := a.Engine()
	if eng == nil {
		return errors.New("the data plane has not started: no configuration yet")
	}
	switch target {
	case pathID:
		eng.ClearForce(0)
		return nil
	case "":
		best, err := a.bestOtherPath(pathID)
		if err != nil {
			return err
		}
		target = best
	}
	return eng.Force(0, target)
}

// bestOtherPath returns the best-scoring path, Up or else Degraded, to the
// same peer as pathID, other than pathID.
func (a *Agent) bestOtherPath(pathID string) (string, error) {
	a.mu.Lock()
	peer := ""
	for _, p := range a.current.Paths {
		if p.ID == pathID {
			peer = p.DstSiteID
		}
	}
	var cands []string
	for _, p := range a.current.Paths {
		if p.DstSiteID == peer && p.ID != pathID {
			cands = append(cands, p.ID)
		}
	}
	a.mu.Unlock()
	best, bestRank := "", -1.0
	for _, id := range cands {
		pr, ok := a.Prober(id)
		if !ok {
			continue
		}
		m := pr.Metrics()
		rank := m.Score
		switch m.State {
		case probe.StateUp:
			rank += 1000
		case probe.StateDegraded:
		default:
			continue
		}
		if rank > bestRank {
			best, bestRank = id, rank
		}
	}
	if best == "" {
		return "", fmt.Errorf("no other eligible path to the same site as path %s", pathID)
	}
	return best, nil
}

// flowEvent queues an engine event for the controller; it runs on the
// engine's goroutines, so it only queues.
func (r *reporter) flowEvent(e dataplane.Event) {
	r.mu.Lock()
	r.flows = append(r.flows, edgeapi.FlowEvent{Kind: string(e.Kind), At: e.Time.UTC(), From: e.From, To: e.To,
		Peer: e.Peer, Policies: e.Policies, Reason: e.Reason})
	if n := len(r.flows) - maxPendingEvents; n > 0 {
		r.flows = r.flows[n:]
	}
	r.mu.Unlock()
	r.a.log.Info("traffic moved", "kind", e.Kind, "from", e.From, "to", e.To, "policies", e.Policies, "reason", e.Reason)
	r.wake()
}

func (r *reporter) flushFlowEvents(ctx context.Context) {
	r.mu.Lock()
	pending := r.flows
	r.mu.Unlock()
	if len(pending) == 0 || !r.a.Connected() {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, reportTimeout)
	err := r.a.client.ReportFlowEvents(cctx, edgeapi.FlowEventBatch{Events: pending})
	cancel()
	if err != nil {
		r.a.log.Warn("report flow events", "events", len(pending), "err", err)
		return
	}
	r.mu.Lock()
	r.flows = r.flows[min(len(pending), len(r.flows)):]
	r.mu.Unlock()
}

// runTraffic reports the traffic deltas every StatsInterval and feeds the
// monitor's metrics to the engine, until ctx ends. A report is re-sent,
// unchanged, until the controller acknowledges it (stats.Reporter), so a
// lost request or answer neither loses nor doubles traffic.
func (a *Agent) runTraffic(ctx context.Context) {
	d := a.dp
	report := time.NewTicker(d.cfg.StatsInterval)
	defer report.Stop()
	feed := time.NewTicker(feedInterval)
	defer feed.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-feed.C:
			a.feedEngine()
		case <-report.C:
			a.reportTraffic(ctx)
		}
	}
}

func (a *Agent) reportTraffic(ctx context.Context) {
	a.mu.Lock()
	rep := a.dp.reporter
	a.mu.Unlock()
	if rep == nil {
		return
	}
	r, ok := rep.Next()
	if !ok {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, reportTimeout)
	ack, err := a.client.ReportTraffic(cctx, edgeapi.FromStats(r))
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("report traffic", "seq", r.Seq, "err", err)
		}
		return
	}
	rep.Ack(ack.Seq)
}

// dpConn adapts a link's socket to what the engine reads.
func dpConn(c net.PacketConn) dataplane.PacketConn {
	if pc, ok := c.(dataplane.PacketConn); ok {
		return pc
	}
	return adapter{c}
}
