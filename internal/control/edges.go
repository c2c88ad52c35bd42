package control

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// EdgeHubConfig tunes the controller's side of the edges.
type EdgeHubConfig struct {
	// Probe is sent to every edge as its path monitor's settings.
	Probe edgeapi.ProbeSettings
	// Debounce gathers a burst of changes into one new configuration.
	// Default 50 ms.
	Debounce time.Duration
	// CheckTimeout bounds how long CheckPathHealth waits for the edge.
	// Default 5 s.
	CheckTimeout time.Duration
	// CheckProbes is how many probes an on-demand check sends. Default 10.
	CheckProbes int
	// MetricsRetention is how long path metrics are kept. Default 7 days.
	MetricsRetention time.Duration
	// RetentionInterval is how often RunRetention prunes. Default 1 h.
	RetentionInterval time.Duration
}

func (c EdgeHubConfig) normalize() EdgeHubConfig {
	if c.Debounce <= 0 {
		c.Debounce = 50 * time.Millisecond
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = 5 * time.Second
	}
	if c.CheckProbes <= 0 {
		c.CheckProbes = 10
	}
	if c.MetricsRetention <= 0 {
		c.MetricsRetention = 7 * 24 * time.Hour
	}
	if c.RetentionInterval <= 0 {
		c.RetentionInterval = time.Hour
	}
	return c
}

// EdgeHub is the controller's side of its edges: it builds each site's
// desired configuration, streams changes to the connected edges, takes
// their reports, and runs on-demand checks through them. It implements
// edgeapi.Backend. An edge is connected to one replica; checks and
// failovers asked of another are relayed to it (edges_relay.go).
type EdgeHub struct {
	svc    *Service
	log    *slog.Logger
	cfg    EdgeHubConfig
	secret []byte
	// traffic takes the edges' statistics reports (SetTraffic).
	traffic *TrafficStats

	mu     sync.Mutex
	conns  map[string][]*edgeConn // by site ID, newest last
	checks map[string]*pendingCheck
}

type edgeConn struct {
	siteID string
	asks   chan edgeapi.Message // checks and failovers for this edge
}

type pendingCheck struct {
	siteID   string
	result   chan edgeapi.CheckResult
	accepted chan struct{} // another replica passed a relayed ask to the edge
}

// accept tells the asker, if it still waits, that the ask reached the
// edge.
func (pc *pendingCheck) accept() {
	select {
	case pc.accepted <- struct{}{}:
	default:
	}
}

// configKinds are the events that can change some site's configuration.
var configKinds = []events.Kind{
	events.SiteCreated, events.SiteUpdated, events.SiteDeleted, events.SiteSoftDeleted, events.SiteRestored,
	events.EndpointChanged, events.PathChanged, events.PolicyChanged, events.PolicyDeleted,
}

// NewEdgeHub returns the hub. The secret that probe keys are derived from
// is read from the store, or made and stored at first start, so that every
// replica derives the same keys.
func NewEdgeHub(ctx context.Context, svc *Service, cfg EdgeHubConfig) (*EdgeHub, error) {
	var secret string
	err := svc.st.Tx(ctx, func(q store.Q) (err error) {
		secret, err = q.SetSettingIfAbsent(ctx, "probe_secret", auth.NewSecret())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("control: probe secret: %w", err)
	}
	return &EdgeHub{
		svc: svc, log: svc.log, cfg: cfg.normalize(), secret: []byte(secret),
		conns: map[string][]*edgeConn{}, checks: map[string]*pendingCheck{},
	}, nil
}

// Authenticate checks a bearer credential (edgeapi.Backend).
func (h *EdgeHub) Authenticate(ctx context.Context, bearer string) (auth.Principal, error) {
	return h.svc.Authenticate(ctx, bearer)
}

func requireEdge(p auth.Principal) error {
	if err := Require(p, sdwan.RoleEdge); err != nil {
		return err
	}
	if p.SiteID == "" {
		return fmt.Errorf("%w: this credential is not bound to a site", sdwan.ErrForbidden)
	}
	return nil
}

// probeKey derives a path's probe key from the deployment's secret: both
// ends get it from the controller, and knowing one path's key tells
// nothing of another's.
func (h *EdgeHub) probeKey(pathID string) []byte {
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte("patronus probe key v1\x00"))
	m.Write([]byte(pathID))
	return m.Sum(nil)
}

// ProbeSession returns the probe session id of a path: 32 bits of a hash
// of its ID, so both ends agree without coordination. Two paths of one
// link colliding is a 1 in 4 billion chance per pair; the edge refuses
// the second and logs it.
func ProbeSession(pathID string) uint32 {
	sum := sha256.Sum256([]byte("patronus probe session v1\x00" + pathID))
	return binary.BigEndian.Uint32(sum[:4])
}

// DesiredConfig builds the configuration of the principal's site.
func (h *EdgeHub) DesiredConfig(ctx context.Context, p auth.Principal) (edgeapi.Config, error) {
	if err := requireEdge(p); err != nil {
		return edgeapi.Config{}, err
	}
	return h.SiteConfig(ctx, p.SiteID)
}

// SiteConfig builds a site's desired configuration, sealed with its
// version. It reads committed state; a path whose endpoint vanished
// between two reads is left out until the next change rebuilds it.
func (h *EdgeHub) SiteConfig(ctx context.Context, siteID string) (edgeapi.Config, error) {
	q := h.svc.st.Read()
	site, err := q.Site(ctx, siteID)
	if err != nil {
		return edgeapi.Config{}, err
	}
	if site.DeletedAt != nil {
		return edgeapi.Config{}, fmt.Errorf("control: site %s is deleted: %w", site.Name, sdwan.ErrNotFound)
	}
	cfg := edgeapi.Config{
		Site:  edgeapi.Site{ID: site.ID, Name: site.Name, PublicKey: site.PublicKey, Prefixes: site.Prefixes},
		Probe: h.cfg.Probe,
	}
	sites, err := allSites(ctx, q)
	if err != nil {
		return edgeapi.Config{}, err
	}
	eps, err := q.ListEndpoints(ctx, "")
	if err != nil {
		return edgeapi.Config{}, err
	}
	endpoints := make(map[string]sdwan.Endpoint, len(eps))
	links := map[string][]edgeapi.Link{}
	for _, e := range eps {
		endpoints[e.ID] = e
		links[e.SiteID] = append(links[e.SiteID], edgeapi.Link{ID: e.ID, Name: e.Name, Address: e.Address, Interface: e.Interface, Kind: string(e.Kind), CostPerGB: e.CostPerGB})
	}
	names := map[string]string{}
	for _, s := range sites {
		names[s.ID] = s.Name
		if s.ID == site.ID {
			continue
		}
		cfg.Peers = append(cfg.Peers, edgeapi.Peer{
			Site:  edgeapi.Site{ID: s.ID, Name: s.Name, PublicKey: s.PublicKey, Prefixes: s.Prefixes},
			Links: links[s.ID],
		})
	}
	cfg.Links = links[site.ID]
	paths, err := allPaths(ctx, q, store.PathFilter{SiteID: site.ID})
	if err != nil {
		return edgeapi.Config{}, err
	}
	for _, p := range paths {
		src, ok1 := endpoints[p.SrcEndpointID]
		dst, ok2 := endpoints[p.DstEndpointID]
		if !ok1 || !ok2 {
			continue
		}
		if p.SrcSiteID == site.ID {
			cfg.Paths = append(cfg.Paths, edgeapi.Path{
				ID: p.ID, Session: ProbeSession(p.ID), Key: h.probeKey(p.ID),
				SrcLinkID: src.ID, SrcLink: src.Name,
				DstSiteID: p.DstSiteID, DstSite: names[p.DstSiteID], DstLinkID: dst.ID, DstLink: dst.Name,
				Remote: dst.Address,
			})
		}
		if p.DstSiteID == site.ID {
			cfg.Answer = append(cfg.Answer, edgeapi.Responder{
				PathID: p.ID, Session: ProbeSession(p.ID), Key: h.probeKey(p.ID),
				LinkID: dst.ID, SrcSite: names[p.SrcSiteID],
			})
		}
	}
	enabled := true
	cfg.Policies, err = listEvery(func(pg store.Page) ([]sdwan.Policy, int, error) {
		return q.ListPolicies(ctx, store.PolicyFilter{Enabled: &enabled}, pg)
	})
	if err != nil {
		return edgeapi.Config{}, err
	}
	cfg.Seal()
	return cfg, nil
}

func allSites(ctx context.Context, q store.Q) ([]sdwan.Site, error) {
	return listEvery(func(pg store.Page) ([]sdwan.Site, int, error) { return q.ListSites(ctx, store.SiteFilter{}, pg) })
}

func allPaths(ctx context.Context, q store.Q, f store.PathFilter) ([]sdwan.Path, error) {
	return listEvery(func(pg store.Page) ([]sdwan.Path, int, error) { return q.ListPaths(ctx, f, pg) })
}

// listEvery reads every page of a store listing.
func listEvery[T any](list func(store.Page) ([]T, int, error)) ([]T, error) {
	var out []T
	for off := 0; ; off += store.MaxLimit {
		items, total, err := list(store.Page{Limit: store.MaxLimit, Offset: off})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if off+len(items) >= total || len(items) == 0 {
			return out, nil
		}
	}
}

// Stream serves an edge's change stream (edgeapi.Backend): the site's
// configuration at once unless the edge already runs version since, then
// again a debounce after any change that alters it, and the checks and
// failovers asked of this edge.
func (h *EdgeHub) Stream(ctx context.Context, p auth.Principal, since string) (<-chan edgeapi.Message, error) {
	cfg, err := h.DesiredConfig(ctx, p)
	if err != nil {
		return nil, err
	}
	// Subscribe before anything can change after the read above, so that
	// no change falls between the two.
	sub := h.svc.bus.Subscribe(ctx, 256, events.Kinds(configKinds...))
	c := &edgeConn{siteID: p.SiteID, asks: make(chan edgeapi.Message, 16)}
	h.addConn(c)
	out := make(chan edgeapi.Message, 4)
	go func() {
		defer close(out)
		defer h.removeConn(c)
		version := since
		send := func(m edgeapi.Message) bool {
			select {
			case out <- m:
				return true
			case <-ctx.Done():
				return false
			}
		}
		offer := func(cfg edgeapi.Config) bool {
			if cfg.Version == version {
				return true
			}
			version = cfg.Version
			return send(edgeapi.Message{Type: edgeapi.MsgConfig, Config: &cfg})
		}
		if !offer(cfg) {
			return
		}
		debounce := time.NewTimer(time.Hour)
		debounce.Stop()
		defer debounce.Stop()
		pending := false
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-sub.C():
				if !ok {
					return
				}
				if !pending {
					pending = true
					debounce.Reset(h.cfg.Debounce)
				}
			case <-debounce.C:
				pending = false
				cfg, err := h.SiteConfig(ctx, p.SiteID)
				if IsNotFound(err) {
					h.log.Info("edge stream ends: site is gone", "site", p.Name)
					return
				}
				if err != nil {
					h.log.Warn("edge config", "site", p.Name, "err", err)
					continue
				}
				if !offer(cfg) {
					return
				}
			case m := <-c.asks:
				if !send(m) {
					return
				}
			}
		}
	}()
	return out, nil
}

func (h *EdgeHub) addConn(c *edgeConn) {
	h.mu.Lock()
	h.conns[c.siteID] = append(h.conns[c.siteID], c)
	h.mu.Unlock()
}

func (h *EdgeHub) removeConn(c *edgeConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cs := h.conns[c.siteID]
	for i, x := range cs {
		if x == c {
			cs = append(cs[:i], cs[i+1:]...)
			break
		}
	}
	if len(cs) == 0 {
		delete(h.conns, c.siteID)
	} else {
		h.conns[c.siteID] = cs
	}
}

// Connected reports whether an edge of the site has a stream open to this
// replica.
func (h *EdgeHub) Connected(siteID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns[siteID]) > 0
}
