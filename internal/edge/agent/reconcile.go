package agent

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/edge/dataplane"
	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// link is one open WAN link socket.
type link struct {
	spec edgeapi.Link
	mux  *probe.Mux
	// conn is the socket handed to the data plane, which owns it; nil
	// without a data plane, where the mux owns the socket.
	conn dataplane.PacketConn
}

// pathSpec is everything that decides how a path is probed; two equal
// specs need no change to the running prober.
type pathSpec struct {
	linkID  string
	session uint32
	key     string
	remote  netip.AddrPort
	cfg     probe.Config
}

type pathEntry struct {
	spec   pathSpec
	prober *probe.Prober
	// settled is when a new prober's verdict counts for the data plane:
	// a monitor starts Down and needs its recovery probes and hold-down
	// to call a good path Up, and until then the engine's assumption
	// (usable) is the better guess. Unanswered probes count at once.
	settled time.Time
}

type answerSpec struct {
	linkID  string
	session uint32
	key     string
}

// Changes counts what an Apply did. The zero value means the agent
// already ran the configuration.
type Changes struct {
	LinksOpened, LinksClosed               int
	PathsAdded, PathsUpdated, PathsRemoved int
	AnswersSet, AnswersRemoved             int
}

// IsZero reports whether nothing changed.
func (c Changes) IsZero() bool { return c == Changes{} }

// ProbeConfig turns the controller's probe settings into the monitor's
// configuration.
func ProbeConfig(s edgeapi.ProbeSettings) probe.Config {
	c := probe.DefaultConfig()
	if s.IntervalMs > 0 {
		c.Interval = time.Duration(s.IntervalMs) * time.Millisecond
		c.ConfirmInterval = c.Interval / 5
	}
	if s.Multiplier > 0 {
		c.Multiplier = s.Multiplier
	}
	if s.RecoverProbes > 0 {
		c.RecoverProbes = s.RecoverProbes
	}
	if s.HoldDownMs > 0 {
		c.HoldDown = time.Duration(s.HoldDownMs) * time.Millisecond
	}
	if s.Window > 0 {
		c.Window = s.Window
	}
	if s.MaxLatencyMs > 0 {
		c.SLA.MaxLatency = time.Duration(s.MaxLatencyMs * float64(time.Millisecond))
	}
	if s.MaxJitterMs > 0 {
		c.SLA.MaxJitter = time.Duration(s.MaxJitterMs * float64(time.Millisecond))
	}
	if s.MaxLossPct > 0 {
		c.SLA.MaxLossPct = s.MaxLossPct
	}
	return c.Normalize()
}

// Apply reconciles the agent to cfg: it opens the links cfg has and the
// agent lacks, closes those it no longer has or whose address changed,
// and adds, updates or removes probers and responders so that they match.
// What already matches is left alone, so applying the same configuration
// twice changes nothing the second time. Parts that fail (a link that
// cannot be opened) are reported in the error and the rest is applied; the
// next Apply retries them.
func (a *Agent) Apply(cfg edgeapi.Config) (Changes, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ch Changes
	var errs []error

	pcfg := ProbeConfig(cfg.Probe)
	if err := pcfg.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("probe settings %+v: %w; using the defaults", cfg.Probe, err))
		pcfg = probe.DefaultConfig()
	}

	dp := a.dp != nil
	if dp {
		if err := a.startEngineLocked(cfg); err != nil {
			return ch, err // nothing can run without the site device; retried at the next configuration
		}
	}

	// Links.
	want := make(map[string]edgeapi.Link, len(cfg.Links))
	for _, l := range cfg.Links {
		want[l.ID] = l
	}
	for id, l := range a.links {
		// The engine knows links by name, so there a rename is a new link.
		if w, ok := want[id]; ok && w.Address == l.spec.Address && w.Interface == l.spec.Interface && (!dp || w.Name == l.spec.Name) {
			l.spec = w // a rename changes no socket
			continue
		}
		a.closeLinkLocked(id)
		ch.LinksClosed++
	}
	if dp && ch.LinksClosed > 0 {
		// Let the engine close the old sockets before any is opened
		// again: a lab link lends one socket to successive owners.
		if err := a.setEngineLocked(cfg); err != nil {
			errs = append(errs, err)
		}
	}
	for _, w := range cfg.Links {
		if _, ok := a.links[w.ID]; ok {
			continue
		}
		conn, err := a.cfg.Dial(sdwan.Endpoint{ID: w.ID, SiteID: cfg.Site.ID, Name: w.Name, Address: w.Address,
			Interface: w.Interface, Kind: sdwan.LinkKind(w.Kind), CostPerGB: w.CostPerGB})
		if err != nil {
			errs = append(errs, fmt.Errorf("link %s: %w", w.Name, err))
			continue
		}
		if dp {
			// The engine takes the socket; the probes get their side of it
			// once the engine has it.
			a.links[w.ID] = &link{spec: w, conn: dpConn(conn)}
		} else {
			a.links[w.ID] = &link{spec: w, mux: probe.NewMux(packetConn(conn), a.log.With("link", w.Name), a.now)}
		}
		ch.LinksOpened++
	}
	if dp {
		// Links, tunnels, peers and policies: the engine changes only what
		// differs, so a repeated configuration costs nothing.
		if err := a.setEngineLocked(cfg); err != nil {
			errs = append(errs, err)
		}
		if err := a.attachProbesLocked(); err != nil {
			errs = append(errs, err)
		}
	}

	// Probers of the paths that start here.
	wantPaths := make(map[string]pathSpec, len(cfg.Paths))
	for _, p := range cfg.Paths {
		wantPaths[p.ID] = pathSpec{linkID: p.SrcLinkID, session: p.Session, key: string(p.Key), remote: p.Remote, cfg: pcfg}
	}
	for id, e := range a.paths {
		if w, ok := wantPaths[id]; ok && w.linkID == e.spec.linkID && w.session == e.spec.session && a.links[w.linkID] != nil {
			continue // same prober; its settings are compared below
		}
		if l := a.links[e.spec.linkID]; l != nil {
			l.mux.RemovePath(e.spec.session)
		}
		delete(a.paths, id)
		ch.PathsRemoved++
	}
	for _, p := range cfg.Paths {
		spec := wantPaths[p.ID]
		e := a.paths[p.ID]
		if e != nil && e.spec == spec {
			continue
		}
		l := a.links[spec.linkID]
		if l == nil {
			errs = append(errs, fmt.Errorf("path %s: its link %s is not open", p.ID, p.SrcLink))
			continue
		}
		if e == nil {
			if other := a.sessionOwner(spec.linkID, spec.session); other != "" {
				errs = append(errs, fmt.Errorf("path %s: probe session %d already used by path %s on link %s", p.ID, spec.session, other, p.SrcLink))
				continue
			}
		}
		pathID := p.ID
		eng := a.engineLocked()
		settled := a.now().Add(time.Duration(spec.cfg.RecoverProbes+1)*spec.cfg.Interval + spec.cfg.HoldDown)
		if e != nil {
			settled = e.settled
		}
		pr, err := l.mux.SetPath(probe.PathConfig{
			ID: spec.session, Key: p.Key, Remote: spec.remote, Config: spec.cfg,
			OnTransition: func(tr probe.Transition, m probe.Metrics) {
				if eng != nil && a.verdictCounts(settled, m) {
					// At once: flows leave a path that went Down on their
					// next packet.
					_ = eng.UpdatePath(dataplane.FromProbe(pathID, m))
				}
				a.rep.transition(pathID, tr)
			},
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("path %s: %w", p.ID, err))
			continue
		}
		if e == nil {
			ch.PathsAdded++
		} else {
			ch.PathsUpdated++
		}
		a.paths[p.ID] = &pathEntry{spec: spec, prober: pr, settled: settled}
	}

	// Responders of the paths that end here.
	wantAnswers := make(map[string]answerSpec, len(cfg.Answer))
	for _, r := range cfg.Answer {
		wantAnswers[r.PathID] = answerSpec{linkID: r.LinkID, session: r.Session, key: string(r.Key)}
	}
	for id, s := range a.answers {
		if w, ok := wantAnswers[id]; ok && w == s && a.links[s.linkID] != nil {
			continue
		}
		if l := a.links[s.linkID]; l != nil {
			l.mux.StopResponding(s.session)
		}
		delete(a.answers, id)
		ch.AnswersRemoved++
	}
	for _, r := range cfg.Answer {
		spec := wantAnswers[r.PathID]
		if _, ok := a.answers[r.PathID]; ok {
			continue
		}
		l := a.links[spec.linkID]
		if l == nil {
			errs = append(errs, fmt.Errorf("answering path %s: link %s is not open", r.PathID, r.LinkID))
			continue
		}
		if err := l.mux.Respond(spec.session, r.Key); err != nil {
			errs = append(errs, fmt.Errorf("answering path %s: %w", r.PathID, err))
			continue
		}
		a.answers[r.PathID] = spec
		ch.AnswersSet++
	}

	a.current = cfg
	return ch, errors.Join(errs...)
}

// engineLocked returns the data plane's engine, nil without one.
func (a *Agent) engineLocked() *dataplane.Engine {
	if a.dp == nil {
		return nil
	}
	return a.dp.engine
}

// sessionOwner returns the path that uses session on a link, if any.
func (a *Agent) sessionOwner(linkID string, session uint32) string {
	for id, e := range a.paths {
		if e.spec.linkID == linkID && e.spec.session == session {
			return id
		}
	}
	return ""
}

// closeLinkLocked closes a link's socket with the probers and responders
// on it.
func (a *Agent) closeLinkLocked(id string) {
	l := a.links[id]
	if l == nil {
		return
	}
	for pid, e := range a.paths {
		if e.spec.linkID == id {
			delete(a.paths, pid)
		}
	}
	for pid, s := range a.answers {
		if s.linkID == id {
			delete(a.answers, pid)
		}
	}
	// Without a data plane this closes the socket; with one, only the
	// probes' side of it: the engine closes the socket at its next Set.
	if l.mux != nil {
		if err := l.mux.Close(); err != nil {
			a.log.Debug("close link", "link", l.spec.Name, "err", err)
		}
	}
	delete(a.links, id)
}
