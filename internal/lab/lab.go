package lab

import (
	"context"
	"crypto/rand"
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

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/controller"
	"github.com/patronus-sdwan/patronus/internal/edge/agent"
	"github.com/patronus-sdwan/patronus/internal/edge/dataplane"
	"github.com/patronus-sdwan/patronus/internal/lab/wanem"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
	"golang.org/x/sync/errgroup"
)

// Config describes a lab.
type Config struct {
	// Sites and Links are the topology: Sites sites named site-1…site-N,
	// each with Links WAN links named wan1…wanK.
	Sites, Links int
	// DataDir keeps the controller's SQLite database; empty means a
	// temporary directory removed by Close. A lab started again on the
	// same directory reuses its sites, links, paths and admin user.
	DataDir string
	// Listen is the controller's address; empty means 127.0.0.1 on a
	// free port.
	Listen string
	// Logger receives everything's messages; nil discards them.
	Logger *slog.Logger
	// AdminPassword is the admin user's password; empty means generate
	// one (reported in Lab.Admin).
	AdminPassword string
	// Probe tunes every edge's path monitor.
	Probe edgeapi.ProbeSettings
	// Mesh, when set, chooses which directed link pairs of different sites
	// get a path; nil means all of them (a full mesh).
	Mesh func(src, dst LinkName) bool
	// Seed makes the emulated links' random choices repeatable; 0 means
	// random.
	Seed uint64
	// ReportInterval is how often edges send metrics. Default 1 s.
	ReportInterval time.Duration
	// Scenario, when set, is played against the links while the lab runs.
	Scenario *wanem.Scenario
	// Version is reported by the controller's health endpoint.
	Version string
	// NoDataPlane runs the edges' path monitors alone, on the raw link
	// sockets, with no WireGuard tunnels or site netstacks.
	NoDataPlane bool
	// HoldDown is how long a recovered path waits before taking traffic
	// back; zero means the data plane's default (5 s).
	HoldDown time.Duration
	// Background, with the data plane, runs traffic while the lab runs: a
	// voice-like UDP stream from site-1 to site-2 and a bulk TCP transfer
	// from site-2 to the last site every 20 s, each under its own policy
	// (created if missing), so the dashboard shows live counters.
	Background bool
	// NetNS, with the data plane, makes each site's LAN a Linux network
	// namespace, patronus-<lab id>-site-N, holding a kernel TUN that the
	// site's edge carries and configures (its address and routes to the
	// peers' prefixes), in place of a netstack in this process. It needs
	// root; the lab removes the namespaces when it closes.
	NetNS bool
}

// LinkName names a site's link the way the lab and scenarios do:
// "site-1/wan2".
type LinkName struct{ Site, Link string }

func (n LinkName) String() string { return n.Site + "/" + n.Link }

// Admin holds the credentials the lab made for its admin user.
type Admin struct {
	User string
	// Password is empty when the user already existed (a reused DataDir).
	Password string
	// APIKey is an admin API key for the command line (PATRONUS_TOKEN).
	APIKey string
}

// Lab is a controller plus in-process edges joined by emulated WAN links.
type Lab struct {
	cfg     Config
	log     *slog.Logger
	tempDir string

	// Controller is the lab's controller; Hub its side of the edges.
	Controller *controller.Controller
	Hub        *control.EdgeHub
	// Admin are the admin user's credentials.
	Admin Admin

	links  map[string]*wanem.Link  // by "site-i/wanK"
	byEP   map[string]*wanem.Link  // by endpoint ID
	epName map[string]LinkName     // endpoint ID -> name
	agents map[string]*agent.Agent // by site name
	nets   map[string]siteLAN      // by site name; empty without a data plane
	sites  []string
	paths  map[[2]string]string // [src, dst] link names -> path ID

	closeOnce sync.Once
}

// New builds the lab: the controller (listening, not yet serving), the
// emulated links, the sites, links, paths and credentials in the store,
// and one agent per site. Run starts them.
func New(ctx context.Context, cfg Config) (_ *Lab, err error) {
	if cfg.Sites < 2 || cfg.Sites > 100 {
		return nil, fmt.Errorf("lab: %d sites: want 2 to 100", cfg.Sites)
	}
	if cfg.Links < 1 || cfg.Links > 16 {
		return nil, fmt.Errorf("lab: %d links per site: want 1 to 16", cfg.Links)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	// l is no named result: the returns on error set that to nil, and
	// the deferred Close must still see what was built.
	l := &Lab{cfg: cfg, log: cfg.Logger, links: map[string]*wanem.Link{}, byEP: map[string]*wanem.Link{},
		epName: map[string]LinkName{}, agents: map[string]*agent.Agent{}, paths: map[[2]string]string{},
		nets: map[string]siteLAN{}}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if cfg.NetNS {
		if cfg.NoDataPlane {
			return nil, errors.New("lab: site network namespaces need the data plane")
		}
		if err := checkNetNS(); err != nil {
			return nil, err
		}
	}
	if cfg.DataDir == "" {
		if l.tempDir, err = os.MkdirTemp("", "patronus-lab-"); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		cfg.DataDir = l.tempDir
	}
	if l.Controller, err = controller.New(ctx, controller.Config{DataDir: cfg.DataDir, Listen: cfg.Listen, Logger: cfg.Logger, Version: cfg.Version,
		// A lab is watched closely and briefly: snapshot the traffic
		// statistics every 5 s rather than every minute, so history and
		// export have rows within seconds.
		SnapshotInterval: 5 * time.Second,
		Edges:            control.EdgeHubConfig{Probe: cfg.Probe}}); err != nil {
		return nil, err
	}
	if err = l.Controller.Listen(); err != nil {
		return nil, err
	}
	l.Hub = l.Controller.Edges
	creds, err := l.buildTopology(ctx)
	if err != nil {
		return nil, err
	}
	if err = l.makeAdmin(ctx); err != nil {
		return nil, err
	}
	l.Controller.Handle(apiPrefix, newAPI(l))
	labID := newLabID()
	for i, site := range l.sites {
		var dp *agent.DataPlane
		if !cfg.NoDataPlane {
			sn, err := l.newLAN(labID, site, i+1)
			if err != nil {
				return nil, err
			}
			l.nets[site] = sn
			key, err := dataplane.GeneratePrivateKey()
			if err != nil {
				return nil, fmt.Errorf("lab: site key: %w", err)
			}
			// The key stays in this process: the edge registers only
			// the public key.
			dp = &agent.DataPlane{PrivateKey: key, Device: sn.device, Routes: sn.routes(), HoldDown: cfg.HoldDown}
		}
		a, err := agent.New(agent.Config{
			Controller: l.URL(), Credential: creds[site], Dial: l.dial,
			Logger: cfg.Logger.With("site", site), ReportInterval: cfg.ReportInterval,
			MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second,
			DataPlane: dp,
		})
		if err != nil {
			return nil, err
		}
		l.agents[site] = a
	}
	return l, nil
}

// newLabID names a lab's namespaces apart from another lab's (a test
// chooses it).
var newLabID = func() string { return strings.ToLower(rand.Text()[:6]) }

// newLAN makes site n's LAN: a namespace with Config.NetNS, else a
// netstack.
func (l *Lab) newLAN(labID, site string, n int) (siteLAN, error) {
	if !l.cfg.NetNS {
		s, err := newSiteNet(n)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return s, nil
	}
	name := "patronus-" + labID + "-" + site
	s, err := newNSSite(name, n, l.log)
	if err != nil {
		return nil, err
	}
	l.log.Info("lab: site LAN in a network namespace", "site", site, "netns", name, "tun", siteTUN, "address", siteHost(n))
	return s, nil
}

// Namespace returns the name of a site's network namespace, "" unless the
// lab runs with Config.NetNS.
func (l *Lab) Namespace(site string) string {
	if s, ok := l.nets[site].(interface{ Namespace() string }); ok {
		return s.Namespace()
	}
	return ""
}

// buildTopology makes the emulated links and makes the store agree with
// them, reusing what a previous run on the same data left. It returns a
// fresh credential per site.
func (l *Lab) buildTopology(ctx context.Context) (map[string]string, error) {
	svc := l.Controller.Service
	q := l.Controller.Store.Read()
	sys := auth.System
	creds := map[string]string{}
	var eps []sdwan.Endpoint
	for i := 1; i <= l.cfg.Sites; i++ {
		name := fmt.Sprintf("site-%d", i)
		l.sites = append(l.sites, name)
		site, err := q.SiteByName(ctx, name)
		prefix := SitePrefix(i)
		switch {
		case control.IsNotFound(err):
			site = sdwan.Site{Name: name, Description: "lab site", Prefixes: []netip.Prefix{prefix}}
			if err := svc.CreateSite(ctx, sys, &site); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		case site.DeletedAt != nil:
			if site, _, err = svc.RestoreSite(ctx, sys, site.ID); err != nil {
				return nil, err
			}
		}
		if !slices.Equal(site.Prefixes, []netip.Prefix{prefix}) {
			if site, err = svc.AssignSitePrefixes(ctx, sys, site.ID, []netip.Prefix{prefix}); err != nil {
				return nil, err
			}
		}
		existing, err := q.ListEndpoints(ctx, site.ID)
		if err != nil {
			return nil, err
		}
		for k := 1; k <= l.cfg.Links; k++ {
			ln := LinkName{Site: name, Link: fmt.Sprintf("wan%d", k)}
			var seed uint64
			if l.cfg.Seed != 0 {
				seed = l.cfg.Seed*1000 + uint64(i*32+k)
			}
			wl, err := wanem.NewLink(wanem.Config{Name: ln.String(), Seed: seed, Logger: l.log})
			if err != nil {
				return nil, err
			}
			l.links[ln.String()] = wl
			idx := slices.IndexFunc(existing, func(e sdwan.Endpoint) bool { return e.Name == ln.Link })
			var ep sdwan.Endpoint
			if idx < 0 {
				ep = sdwan.Endpoint{SiteID: site.ID, Name: ln.Link, Address: wl.Addr(), Kind: sdwan.LinkOther, Reachable: true}
				if err := svc.CreateEndpoint(ctx, sys, &ep); err != nil {
					return nil, err
				}
			} else if ep, err = svc.UpdateEndpoint(ctx, sys, existing[idx].ID, func(e *sdwan.Endpoint) error {
				e.Address = wl.Addr()
				return nil
			}); err != nil {
				return nil, err
			}
			l.byEP[ep.ID] = wl
			l.epName[ep.ID] = ln
			eps = append(eps, ep)
		}
		key, err := svc.IssueSiteCredential(ctx, sys, site.ID)
		if err != nil {
			return nil, err
		}
		creds[name] = key.Key
	}
	have := map[[2]string]string{}
	for off := 0; ; off += store.MaxLimit {
		ps, total, err := q.ListPaths(ctx, store.PathFilter{}, store.Page{Limit: store.MaxLimit, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			have[[2]string{p.SrcEndpointID, p.DstEndpointID}] = p.ID
		}
		if off+len(ps) >= total || len(ps) == 0 {
			break
		}
	}
	for _, src := range eps {
		for _, dst := range eps {
			if src.SiteID == dst.SiteID {
				continue
			}
			sn, dn := l.epName[src.ID], l.epName[dst.ID]
			if l.cfg.Mesh != nil && !l.cfg.Mesh(sn, dn) {
				continue
			}
			id, ok := have[[2]string{src.ID, dst.ID}]
			if !ok {
				p := sdwan.Path{SrcEndpointID: src.ID, DstEndpointID: dst.ID}
				if err := svc.CreatePath(ctx, sys, &p); err != nil {
					return nil, err
				}
				id = p.ID
			}
			l.paths[[2]string{sn.String(), dn.String()}] = id
		}
	}
	return creds, nil
}

// makeAdmin creates the admin user unless it exists, and an API key for
// the command line.
func (l *Lab) makeAdmin(ctx context.Context) error {
	svc := l.Controller.Service
	l.Admin.User = "admin"
	u, err := l.Controller.Store.Read().UserByName(ctx, l.Admin.User)
	switch {
	case control.IsNotFound(err):
		pw := l.cfg.AdminPassword
		if pw == "" {
			pw = rand.Text()[:20]
		}
		if u, err = svc.CreateUser(ctx, auth.System, l.Admin.User, sdwan.RoleAdmin, pw); err != nil {
			return fmt.Errorf("lab: admin user: %w", err)
		}
		l.Admin.Password = pw
	case err != nil:
		return err
	}
	key, err := svc.CreateAPIKey(ctx, auth.Principal{Kind: "user", UserID: u.ID, Name: u.Name, Role: u.Role},
		"lab-"+time.Now().UTC().Format("20060102-150405"), sdwan.RoleAdmin)
	if err != nil {
		return fmt.Errorf("lab: admin API key: %w", err)
	}
	l.Admin.APIKey = key.Key
	return nil
}

// dial is the agents' LinkDialer: a site's link is its emulated link's
// socket. The lab owns the link, so the agent gets a handle whose Close
// only stops reads.
func (l *Lab) dial(e sdwan.Endpoint) (net.PacketConn, error) {
	wl := l.byEP[e.ID]
	if wl == nil {
		return nil, fmt.Errorf("lab: no emulated link for endpoint %s (%s)", e.Name, e.ID)
	}
	c := wl.Conn()
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return &borrowed{Conn: c}, nil
}

// borrowed is an emulated link's socket lent to an agent.
type borrowed struct {
	*wanem.Conn
	once   sync.Once
	closed atomic.Bool
}

// Close ends pending and future reads, which then fail with net.ErrClosed,
// and leaves the link open.
func (b *borrowed) Close() error {
	b.once.Do(func() {
		b.closed.Store(true)
		_ = b.SetReadDeadline(time.Unix(1, 0))
	})
	return nil
}

// ReadFromUDPAddrPort reads the link; after Close it fails with
// net.ErrClosed, as a closed socket does, so that readers stop.
func (b *borrowed) ReadFromUDPAddrPort(p []byte) (int, netip.AddrPort, error) {
	n, from, err := b.Conn.ReadFromUDPAddrPort(p)
	if err != nil && b.closed.Load() {
		return 0, netip.AddrPort{}, fmt.Errorf("lab: borrowed link socket: %w", net.ErrClosed)
	}
	return n, from, err
}

// ReadFrom is ReadFromUDPAddrPort for net.PacketConn.
func (b *borrowed) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := b.ReadFromUDPAddrPort(p)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// Run serves the controller, runs the edges and plays the scenario until
// ctx ends.
func (l *Lab) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return l.Controller.Serve(ctx) })
	for _, a := range l.agents {
		g.Go(func() error { return a.Run(ctx) })
	}
	if l.cfg.Background && !l.cfg.NoDataPlane {
		g.Go(func() error { return l.runBackground(ctx) })
	}
	if sc := l.cfg.Scenario; sc != nil {
		p, err := wanem.NewPlayer(sc, l, wanem.PlayerConfig{Logger: l.log})
		if err != nil {
			return err
		}
		g.Go(func() error {
			if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		})
	}
	return g.Wait()
}

// Close closes the links and the store and removes a temporary data
// directory. Call it after Run has returned.
func (l *Lab) Close() error {
	var errs []error
	l.closeOnce.Do(func() {
		for _, a := range l.agents {
			a.Close()
		}
		for _, sn := range l.nets {
			errs = append(errs, sn.close())
		}
		for _, wl := range l.links {
			if err := wl.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		if l.Controller != nil {
			errs = append(errs, l.Controller.Close())
		}
		if l.tempDir != "" {
			errs = append(errs, os.RemoveAll(l.tempDir))
		}
	})
	return errors.Join(errs...)
}

// URL is the controller's base URL.
func (l *Lab) URL() string { return "http://" + l.Controller.Addr() }

// LookupLink finds a link by "site-i/wanK" (wanem.Registry, for
// scenarios).
func (l *Lab) LookupLink(name string) (wanem.Target, bool) {
	wl, ok := l.links[name]
	if !ok {
		return nil, false
	}
	return wl, true
}

// Link returns the emulated link called name ("site-1/wan1").
func (l *Lab) Link(name string) *wanem.Link { return l.links[name] }

// LinkNames returns every link's name, sorted.
func (l *Lab) LinkNames() []string {
	names := make([]string, 0, len(l.links))
	for n := range l.links {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Sites returns the site names, site-1 first.
func (l *Lab) Sites() []string { return slices.Clone(l.sites) }

// Agent returns a site's edge.
func (l *Lab) Agent(site string) *agent.Agent { return l.agents[site] }

// PathID returns the ID of the path from link src to link dst (both
// "site-i/wanK"), or "" if the lab made none.
func (l *Lab) PathID(src, dst string) string { return l.paths[[2]string{src, dst}] }

// PathCount returns how many paths the lab made.
func (l *Lab) PathCount() int { return len(l.paths) }
