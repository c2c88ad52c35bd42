package agent

import (
	"context"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// Config is what an agent needs.
type Config struct {
	// Controller is the controller's base URL, http://host:port.
	Controller string
	// Credential is the site credential (pse_…).
	Credential string
	// Dial opens a link's socket; nil means UDPDialer.
	Dial LinkDialer
	// Logger receives the agent's messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock of the probes; nil means time.Now.
	Now func() time.Time
	// ReportInterval is how often metrics are sent. Default 1 s.
	ReportInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts. Defaults 250 ms and 15 s.
	MinBackoff, MaxBackoff time.Duration
	// StreamIdle is how long a silent stream is trusted; it should be a
	// few of the controller's ping intervals. Default 35 s.
	StreamIdle time.Duration
	// HTTPClient carries the requests; nil means a default client.
	HTTPClient *http.Client
	// OnFailover, set by the data plane, moves the flows on a path to
	// target (a path ID; "" means the best eligible path). Without it the
	// agent answers a failover request with an error: there are no flows
	// to move.
	OnFailover func(ctx context.Context, pathID, target, reason string) error
	// DataPlane, when set, makes the agent carry the site's traffic; nil
	// runs the path monitor alone. With it and no OnFailover, failovers
	// go to the data plane.
	DataPlane *DataPlane
}

// Agent is a running edge. Create it with New and run it with Run.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	client *edgeapi.Client
	rep    *reporter
	dp     *dpState // nil without a data plane

	mu      sync.Mutex
	links   map[string]*link // by endpoint ID
	paths   map[string]*pathEntry
	answers map[string]answerSpec
	current edgeapi.Config

	connected atomic.Bool
	checks    sync.WaitGroup
}

// New checks cfg and returns an agent that has not connected yet.
func New(cfg Config) (*Agent, error) {
	if cfg.Dial == nil {
		cfg.Dial = UDPDialer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReportInterval <= 0 {
		cfg.ReportInterval = time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(15*time.Second, cfg.MinBackoff)
	}
	if cfg.StreamIdle <= 0 {
		cfg.StreamIdle = 35 * time.Second
	}
	if cfg.HTTPClient == nil {
		// Its own transport, so that Run can drop its idle connections
		// when it ends.
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	client, err := edgeapi.NewClient(cfg.Controller, cfg.Credential, cfg.HTTPClient)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg: cfg, log: cfg.Logger, now: cfg.Now, client: client,
		links: map[string]*link{}, paths: map[string]*pathEntry{}, answers: map[string]answerSpec{},
	}
	a.rep = newReporter(a)
	if cfg.DataPlane != nil {
		if a.dp, err = newDPState(*cfg.DataPlane); err != nil {
			return nil, err
		}
		if a.dp.coll == nil {
			if a.dp.coll, err = stats.New(stats.Config{Capacity: a.dp.cfg.FlowCapacity, Logger: cfg.Logger, Now: cfg.Now}); err != nil {
				return nil, err
			}
		}
		if a.cfg.OnFailover == nil {
			a.cfg.OnFailover = a.dpFailover
		}
	}
	return a, nil
}

// Run follows the controller until ctx ends, then closes every link. It
// returns nil when ctx ends; while the controller cannot be reached it
// keeps probing on the last configuration and retries.
func (a *Agent) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { a.rep.run(ctx) })
	if a.dp != nil {
		wg.Go(func() { a.dp.coll.Run(ctx) })
		wg.Go(func() { a.runTraffic(ctx) })
	}
	backoff := a.cfg.MinBackoff
	for ctx.Err() == nil {
		heard := false
		err := a.client.Stream(ctx, a.Version(), a.cfg.StreamIdle, func(m edgeapi.Message) error {
			heard = true
			return a.handle(ctx, m)
		})
		wasConnected := a.connected.Swap(false)
		if ctx.Err() != nil {
			break
		}
		if heard {
			backoff = a.cfg.MinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		if wasConnected {
			a.log.Warn("lost the controller; running on the last configuration", "err", err, "version", a.Version(), "retry_in", wait)
		} else {
			a.log.Warn("cannot reach the controller", "err", err, "retry_in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(2*backoff, a.cfg.MaxBackoff)
	}
	wg.Wait()
	a.checks.Wait()
	a.Close()
	a.cfg.HTTPClient.CloseIdleConnections()
	return nil
}

func (a *Agent) handle(ctx context.Context, m edgeapi.Message) error {
	if !a.connected.Swap(true) {
		a.log.Info("connected to the controller", "url", a.cfg.Controller)
		a.rep.resync()
	}
	switch m.Type {
	case edgeapi.MsgConfig:
		a.maybeRegisterKey(ctx, *m.Config)
		ch, err := a.Apply(*m.Config)
		lvl := slog.LevelInfo
		if err != nil {
			lvl = slog.LevelWarn
		}
		a.log.Log(ctx, lvl, "applied configuration", "version", m.Config.Version,
			"links", len(m.Config.Links), "paths", len(m.Config.Paths), "answering", len(m.Config.Answer),
			"changes", ch, "err", err)
		// New probers report their state from now on; tell the
		// controller where each stands.
		if ch.PathsAdded > 0 {
			a.rep.resync()
		}
	case edgeapi.MsgCheck:
		chk := *m.Check
		a.checks.Go(func() { a.runCheck(ctx, chk) })
	case edgeapi.MsgFailover:
		f := *m.Failover
		a.checks.Go(func() { a.runFailover(ctx, f) })
	}
	return nil
}

// runCheck sends the burst a check asks for and posts what it measured.
func (a *Agent) runCheck(ctx context.Context, chk edgeapi.Check) {
	res := edgeapi.CheckResult{ID: chk.ID, PathID: chk.PathID}
	pr, ok := a.Prober(chk.PathID)
	if !ok {
		res.Error = "this edge does not probe path " + chk.PathID
	} else {
		timeout := time.Duration(chk.TimeoutMs) * time.Millisecond
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		r, err := pr.CheckNow(cctx, chk.Probes)
		cancel()
		if err != nil {
			res.Error = err.Error()
		} else {
			res.Sent, res.Received = r.Sent, r.Received
			m := r.Path
			m.LatencyMs, m.JitterMs, m.LossPct = r.LatencyMs, r.JitterMs, r.LossPct
			m.MOS, m.Score = probe.Quality(r.LatencyMs, r.JitterMs, r.LossPct)
			if r.Received == 0 {
				m.MOS, m.Score = 0, 0
			}
			res.Metrics = toMetrics(chk.PathID, m, a.now())
		}
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.client.CompleteCheck(pctx, res); err != nil {
		a.log.Warn("report check", "path", chk.PathID, "err", err)
	}
}

// runFailover hands a failover to the data plane and posts the outcome.
func (a *Agent) runFailover(ctx context.Context, f edgeapi.Failover) {
	res := edgeapi.CheckResult{ID: f.ID, PathID: f.PathID}
	if a.cfg.OnFailover == nil {
		res.Error = "this edge runs no data plane, so it has no flows to move"
	} else if _, ok := a.Prober(f.PathID); !ok {
		res.Error = "this edge has no path " + f.PathID
	} else if err := a.cfg.OnFailover(ctx, f.PathID, f.Target, f.Reason); err != nil {
		res.Error = err.Error()
	}
	a.log.Info("failover requested", "path", f.PathID, "target", f.Target, "reason", f.Reason, "err", res.Error)
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.client.CompleteCheck(pctx, res); err != nil {
		a.log.Warn("report failover", "path", f.PathID, "err", err)
	}
}

// toMetrics converts the monitor's snapshot to the wire form.
func toMetrics(pathID string, m probe.Metrics, at time.Time) edgeapi.Metrics {
	fin := func(v float64) float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return 0
		}
		return v
	}
	return edgeapi.Metrics{
		PathID: pathID, State: m.State.String(),
		LatencyMs: fin(m.LatencyMs), JitterMs: fin(m.JitterMs), PacketLossPct: min(fin(m.LossPct), 100),
		P50Ms: fin(m.P50Ms), P95Ms: fin(m.P95Ms), MOS: fin(m.MOS), Score: int(math.Round(min(fin(m.Score), 100))),
		Sent: m.Sent, Received: m.Received, Lost: m.Lost, MeasuredAt: at.UTC(),
	}
}

// Close closes every link and the data plane. Run calls it on its way
// out; call it only for an agent that is not running.
func (a *Agent) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id := range a.links {
		a.closeLinkLocked(id)
	}
	a.closeRoutesLocked()
	if a.dp != nil && a.dp.engine != nil {
		if err := a.dp.engine.Close(); err != nil {
			a.log.Debug("close the data plane", "err", err)
		}
	}
}

// Version returns the version of the configuration the agent runs, "" if
// none yet.
func (a *Agent) Version() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.current.Version
}

// Connected reports whether the agent's stream to the controller is open.
func (a *Agent) Connected() bool { return a.connected.Load() }

// Prober returns the prober of a path that starts at this site.
func (a *Agent) Prober(pathID string) (*probe.Prober, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.paths[pathID]
	if !ok {
		return nil, false
	}
	return e.prober, true
}

// PathStatus is what the agent knows of one of its paths.
type PathStatus struct {
	PathID  string
	Link    string
	Metrics probe.Metrics
}

// Paths returns the monitor's view of every path the agent probes, by
// path ID.
func (a *Agent) Paths() []PathStatus {
	type item struct {
		id, link string
		pr       *probe.Prober
	}
	a.mu.Lock()
	items := make([]item, 0, len(a.paths))
	for id, e := range a.paths {
		name := ""
		if l := a.links[e.spec.linkID]; l != nil {
			name = l.spec.Name
		}
		items = append(items, item{id, name, e.prober})
	}
	a.mu.Unlock()
	out := make([]PathStatus, 0, len(items))
	for _, it := range items {
		out = append(out, PathStatus{PathID: it.id, Link: it.link, Metrics: it.pr.Metrics()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PathID < out[j].PathID })
	return out
}

// LinkStats returns each open link's socket counters, by link name.
func (a *Agent) LinkStats() map[string]probe.MuxStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]probe.MuxStats, len(a.links))
	for _, l := range a.links {
		out[l.spec.Name] = l.mux.Stats()
	}
	return out
}
