package dataplane

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/patronus-sdwan/patronus/internal/edge/dataplane/classify"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// EventKind says why flows moved.
type EventKind string

// Event kinds.
const (
	// EventFailover: the path the traffic was on went Down or broke the
	// policy's SLA, and its flows moved at once.
	EventFailover EventKind = "failover"
	// EventFailback: a path recovered, stayed good for the hold-down, and
	// the traffic moved back to it.
	EventFailback EventKind = "failback"
	// EventForced: an operator forced traffic onto a path, or cleared it.
	EventForced EventKind = "forced"
)

// Event records flows moving from one path to another, for the API.
type Event struct {
	Time time.Time
	Kind EventKind
	// Policies are the IDs of the policies whose traffic moved (0 is the
	// unmatched traffic), ascending.
	Policies []int64
	// Peer is the remote site the traffic goes to.
	Peer string
	// From and To are path IDs; empty when there was or is no path.
	From, To string
	// Reason says why, for a person.
	Reason string
}

// pathState is what the path monitor last said about a path.
type pathState struct {
	status  sdwan.PathStatus
	metrics sdwan.PathMetrics
}

// slotKey names a slot across table generations: a policy's traffic to a
// peer.
type slotKey struct {
	policy int64
	peer   string
}

// slotState is a slot's memory across rebuilds.
type slotState struct {
	choice string // path chosen for new flows, "" if none
	epoch  uint32
	// version and sig track the slot's Version: it changes with the epoch
	// and with the eligible paths (sig).
	version uint32
	sig     string
	// decided is false until the slot's first decision, which moves no
	// flow and so is no event.
	decided bool
	forced  string // path forced onto, if any
	// bad are the paths that were not eligible at the last rebuild;
	// recovered holds when each path became eligible again.
	bad       map[string]bool
	recovered map[string]time.Time
}

// control is the engine's control state, guarded by Engine.mu.
type control struct {
	cfg         Config
	links       map[string]*link
	tunnels     map[string]*tunnel
	handles     map[string]int16
	byHandle    []*tunnel
	freeHandles []int16
	states      map[string]*pathState
	slots       map[slotKey]*slotState
	forced      map[int64]string // policy ID (0: the whole site) -> path ID
	rules       *classify.Rules
	peerOrder   []string    // peer index -> ID
	gen         uint32      // numbers the rules: Table.Gen
	timer       func() bool // stops the hold-down timer
	timerAt     time.Time
	instance    uint64
}

// instances numbers engines process-wide, to keep their interface names
// apart.
var instances atomic.Uint64

func (c *control) init() {
	c.links = map[string]*link{}
	c.tunnels = map[string]*tunnel{}
	c.handles = map[string]int16{}
	c.states = map[string]*pathState{}
	c.slots = map[slotKey]*slotState{}
	c.forced = map[int64]string{}
	c.instance = instances.Add(1)
}

func (c *control) allocHandle() int16 {
	if n := len(c.freeHandles); n > 0 {
		h := c.freeHandles[n-1]
		c.freeHandles = c.freeHandles[:n-1]
		return h
	}
	c.byHandle = append(c.byHandle, nil)
	return int16(len(c.byHandle) - 1)
}

func (c *control) stopTimer() {
	if c.timer != nil {
		c.timer()
		c.timer = nil
	}
}

// compile compiles cfg's policies and peers (nil: none).
func (c *control) compile(cfg *Config) (*classify.Rules, error) {
	if cfg == nil {
		c.peerOrder = nil
		return classify.Compile(nil, nil)
	}
	peers := slices.Clone(cfg.Peers)
	slices.SortFunc(peers, func(a, b Peer) int { return strings.Compare(a.ID, b.ID) })
	c.peerOrder = c.peerOrder[:0]
	prefixes := make([][]netip.Prefix, len(peers))
	for i, p := range peers {
		c.peerOrder = append(c.peerOrder, p.ID)
		prefixes[i] = p.Prefixes
	}
	r, err := classify.Compile(cfg.Policies, prefixes)
	if err != nil {
		return nil, fmt.Errorf("dataplane: %w", err)
	}
	return r, nil
}

// UpdatePath records what the path monitor says about a path and re-decides
// at once: flows on a path that went Down or broke their policy's SLA move
// to the best eligible path on their next packet. A path that recovers
// takes traffic again only after the hold-down.
func (e *Engine) UpdatePath(id string, status sdwan.PathStatus, m sdwan.PathMetrics) error {
	e.mu.Lock()
	st := e.ctl.states[id]
	if st == nil || e.closed {
		e.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownPath, id)
	}
	st.status, st.metrics = status, m
	evs := e.rebuildLocked()
	e.deliverUnlock(evs)
	return nil
}

// PathUpdate is one path's verdict from the monitor, for UpdatePaths.
type PathUpdate struct {
	ID      string
	Status  sdwan.PathStatus
	Metrics sdwan.PathMetrics
}

// UpdatePaths records several paths' verdicts and recomputes the decisions
// once, where calling UpdatePath for each would recompute them for each:
// an edge with 500 paths refreshing their metrics four times a second
// spent most of its CPU there. Unknown paths are skipped and reported in
// the error after the others are applied.
func (e *Engine) UpdatePaths(updates []PathUpdate) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return fmt.Errorf("%w: engine closed", ErrUnknownPath)
	}
	var unknown []string
	for _, u := range updates {
		st := e.ctl.states[u.ID]
		if st == nil {
			unknown = append(unknown, u.ID)
			continue
		}
		st.status, st.metrics = u.Status, u.Metrics
	}
	evs := e.rebuildLocked()
	e.deliverUnlock(evs)
	if len(unknown) > 0 {
		return fmt.Errorf("%w: %q", ErrUnknownPath, unknown)
	}
	return nil
}

// Force puts the traffic of a policy (policyID 0: all of the site's
// traffic) onto a path until ClearForce, the failoverPath operation. Traffic
// to other peers than the path's goes to their path on the same local link,
// if there is one. A forced path that is Down is not used: forcing traffic
// into a dead path helps nobody.
func (e *Engine) Force(policyID int64, pathID string) error {
	e.mu.Lock()
	if e.ctl.tunnels[pathID] == nil || e.closed {
		e.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownPath, pathID)
	}
	e.ctl.forced[policyID] = pathID
	evs := e.rebuildLocked()
	e.deliverUnlock(evs)
	return nil
}

// ClearForce ends a forced failover set by Force.
func (e *Engine) ClearForce(policyID int64) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	delete(e.ctl.forced, policyID)
	evs := e.rebuildLocked()
	e.deliverUnlock(evs)
}

// deliverUnlock hands events to OnEvent in order, outside e.mu.
func (e *Engine) deliverUnlock(evs []Event) {
	if len(evs) == 0 || e.opts.OnEvent == nil {
		e.mu.Unlock()
		return
	}
	e.evMu.Lock()
	e.mu.Unlock()
	defer e.evMu.Unlock()
	for _, ev := range evs {
		e.opts.OnEvent(ev)
	}
}

// candidate is one path considered for a slot.
type candidate struct {
	id     string
	handle int16
	link   string
	cost   float64
	st     *pathState
}

// rebuildLocked recomputes every slot's decision from the rules and path
// states, publishes a new table, and returns the events of the change.
func (e *Engine) rebuildLocked() []Event {
	c := &e.ctl
	if c.rules == nil {
		return nil
	}
	now := e.opts.Now()
	policies := c.rules.Policies()
	npeers := len(c.peerOrder)
	nslots := (len(policies) + 1) * npeers
	words := max(1, (len(c.byHandle)+63)/64)
	t := &classify.Table{Rules: c.rules, Peers: npeers, Slots: make([]classify.Slot, nslots),
		Eligible: make([]uint64, nslots*words), EligibleWords: words, Gen: c.gen}

	// Paths by peer, in a stable order.
	costs := map[string]float64{}
	for _, l := range c.cfg.Links {
		costs[l.Name] = l.CostPerGB
	}
	byPeer := map[string][]candidate{}
	linkOf := map[string]string{}
	for _, p := range c.cfg.Paths {
		byPeer[p.Peer] = append(byPeer[p.Peer], candidate{id: p.ID, handle: c.handles[p.ID], link: p.Link, cost: costs[p.Link], st: c.states[p.ID]})
		linkOf[p.ID] = p.Link
	}
	var events []Event
	var nextWake time.Time
	seen := map[slotKey]bool{}
	defaultAction := sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferQuality}
	for pi := 0; pi <= len(policies); pi++ {
		id, action := int64(0), defaultAction
		if pi < len(policies) {
			id, action = policies[pi].ID, policies[pi].Action
		}
		for peer, peerID := range c.peerOrder {
			slot := pi*npeers + peer
			key := slotKey{id, peerID}
			seen[key] = true
			ss := c.slots[key]
			if ss == nil {
				ss = &slotState{bad: map[string]bool{}, recovered: map[string]time.Time{}}
				c.slots[key] = ss
			}
			if action.Kind == sdwan.ActionDrop {
				if ss.sig != "drop" {
					ss.sig = "drop"
					ss.version++
				}
				t.Slots[slot] = classify.Slot{Path: classify.NoPath, Drop: true, Epoch: ss.epoch, Version: ss.version}
				ss.choice = ""
				continue
			}
			d := e.decideSlot(ss, action, byPeer[peerID], now, c.cfg.HoldDown)
			// Forced failover overrides the choice and pins every flow.
			forced := e.forcedPath(id, peerID, byPeer[peerID], linkOf)
			if forced != "" {
				d.choice, d.eligible = forced, []string{forced}
			}
			if d.wake.After(now) && (nextWake.IsZero() || d.wake.Before(nextWake)) {
				nextWake = d.wake
			}
			if ev, ok := e.transition(ss, key, d, forced, now); ok {
				events = appendEvent(events, ev)
			}
			var sig strings.Builder
			for _, p := range d.eligible {
				t.SetEligible(slot, int32(c.handles[p]))
				fmt.Fprintf(&sig, "%d,", c.handles[p])
			}
			fmt.Fprintf(&sig, "e%d", ss.epoch)
			if sig.String() != ss.sig {
				ss.sig = sig.String()
				ss.version++
			}
			t.Slots[slot] = classify.Slot{Path: int32(e.handleOf(d.choice)), Epoch: ss.epoch, Version: ss.version}
		}
	}
	for k := range c.slots {
		if !seen[k] {
			delete(c.slots, k)
		}
	}
	paths := make([]*pathTun, len(c.byHandle))
	for h, tn := range c.byHandle {
		if tn != nil {
			paths[h] = tn.tun
		}
	}
	e.snap.Store(&snapshot{table: t, paths: paths, local: slices.Clone(c.cfg.Prefixes)})
	e.scheduleLocked(nextWake, now)
	return events
}

func (e *Engine) handleOf(id string) int16 {
	if id == "" {
		return classify.NoPath
	}
	return e.ctl.handles[id]
}

// slotDecision is a slot's decision before events and epochs.
type slotDecision struct {
	choice   string   // path for new flows
	eligible []string // paths flows may stay on
	reasons  map[string]string
	// fresh holds the candidates whose hold-down ended at this rebuild.
	fresh map[string]bool
	wake  time.Time // when the next hold-down ends
}

// decideSlot picks a slot's paths. Eligible paths are those not Down that
// meet the SLA (or, if none does, every path not Down: late traffic beats
// none). New flows go to the best eligible path by the preference, among
// those that are not in their hold-down (or among all eligible ones, if
// every one is).
func (e *Engine) decideSlot(ss *slotState, a sdwan.Action, paths []candidate, now time.Time, hold time.Duration) slotDecision {
	d := slotDecision{reasons: map[string]string{}, fresh: map[string]bool{}}
	var meets, up []candidate
	for _, p := range paths {
		switch {
		case p.st.status == sdwan.PathDown:
			d.reasons[p.id] = fmt.Sprintf("path %s is down", p.id)
		case !a.SLA.Meets(p.st.metrics):
			d.reasons[p.id] = fmt.Sprintf("path %s breaks the SLA (%s)", p.id, slaBreach(a.SLA, p.st.metrics))
			up = append(up, p)
		default:
			meets = append(meets, p)
			up = append(up, p)
		}
	}
	eligible := meets
	if len(eligible) == 0 {
		eligible = up
	}
	inEligible := map[string]bool{}
	for _, p := range eligible {
		inEligible[p.id] = true
		d.eligible = append(d.eligible, p.id)
	}
	// Hold-down bookkeeping: a path that was bad and is eligible again
	// starts its hold-down now.
	var ready []candidate
	for _, p := range paths {
		if !inEligible[p.id] {
			ss.bad[p.id] = true
			delete(ss.recovered, p.id)
			continue
		}
		if ss.bad[p.id] {
			delete(ss.bad, p.id)
			ss.recovered[p.id] = now
		}
	}
	for _, p := range eligible {
		if at, ok := ss.recovered[p.id]; ok {
			if end := at.Add(hold); now.Before(end) {
				if d.wake.IsZero() || end.Before(d.wake) {
					d.wake = end
				}
				continue
			}
			delete(ss.recovered, p.id)
			d.fresh[p.id] = true
		}
		ready = append(ready, p)
	}
	if len(ready) == 0 {
		ready = eligible
	}
	if i, ok := sdwan.ChoosePath(a, ready, (*candidate).choice); ok {
		d.choice = ready[i].id
	}
	return d
}

// choice is the candidate as sdwan.ChoosePath weighs it.
func (c *candidate) choice() sdwan.PathChoice {
	return sdwan.PathChoice{ID: c.id, Link: c.link, CostPerGB: c.cost, Status: c.st.status, Metrics: c.st.metrics}
}

// forcedPath returns the path a forced failover puts a slot's traffic on:
// the forced path of the policy, else of the whole site; for another peer,
// that peer's path on the forced path's link. Down paths are not forced.
func (e *Engine) forcedPath(policy int64, peer string, paths []candidate, linkOf map[string]string) string {
	target, ok := e.ctl.forced[policy]
	if !ok {
		if target, ok = e.ctl.forced[0]; !ok {
			return ""
		}
	}
	l := linkOf[target]
	for _, p := range paths {
		if (p.id == target || p.link == l) && p.st.status != sdwan.PathDown {
			return p.id
		}
	}
	return ""
}

// transition updates a slot's memory with its new decision, moving its
// flows (a new epoch) when a failback or a forced failover says so, and
// returns the event to report, if any.
func (e *Engine) transition(ss *slotState, key slotKey, d slotDecision, forced string, now time.Time) (Event, bool) {
	old := ss.choice
	ss.choice = d.choice
	if !ss.decided {
		ss.decided, ss.forced = true, forced
		return Event{}, false
	}
	ev := Event{Time: now, Policies: []int64{key.policy}, Peer: key.peer, From: old, To: d.choice}
	if forced != ss.forced {
		prev := ss.forced
		ss.forced = forced
		ss.epoch++
		ev.Kind = EventForced
		if forced != "" {
			ev.Reason = fmt.Sprintf("operator forced traffic onto path %s", forced)
		} else {
			ev.Reason = fmt.Sprintf("operator cleared the forced failover onto path %s", prev)
		}
		return ev, true
	}
	if old == d.choice {
		return Event{}, false
	}
	if old != "" && !slices.Contains(d.eligible, old) {
		ev.Kind = EventFailover
		ev.Reason = d.reasons[old]
		if ev.Reason == "" {
			ev.Reason = fmt.Sprintf("path %s is gone", old)
		}
		if d.choice == "" {
			ev.Reason += "; no path left"
		}
		return ev, true
	}
	if d.fresh[d.choice] && e.ctl.cfg.Failback == FailbackAfterHoldDown {
		ss.epoch++
		ev.Kind = EventFailback
		ev.Reason = fmt.Sprintf("path %s recovered and held up for %v", d.choice, e.ctl.cfg.HoldDown)
		return ev, true
	}
	if old == "" {
		ev.Kind = EventFailover
		ev.Reason = fmt.Sprintf("path %s is available", d.choice)
		return ev, true
	}
	// A better path for new flows; established flows stay where they are.
	return Event{}, false
}

// appendEvent merges ev into an event of the same move and reason, so a
// path failure is one event listing its policies, not one per policy.
func appendEvent(evs []Event, ev Event) []Event {
	for i := range evs {
		x := &evs[i]
		if x.Kind == ev.Kind && x.Peer == ev.Peer && x.From == ev.From && x.To == ev.To && x.Reason == ev.Reason {
			x.Policies = append(x.Policies, ev.Policies...)
			slices.Sort(x.Policies)
			return evs
		}
	}
	return append(evs, ev)
}

func slaBreach(s sdwan.SLA, m sdwan.PathMetrics) string {
	var parts []string
	if s.MaxLatencyMs > 0 && m.LatencyMs > s.MaxLatencyMs {
		parts = append(parts, fmt.Sprintf("latency %.1f ms > %.1f ms", m.LatencyMs, s.MaxLatencyMs))
	}
	if s.MaxJitterMs > 0 && m.JitterMs > s.MaxJitterMs {
		parts = append(parts, fmt.Sprintf("jitter %.1f ms > %.1f ms", m.JitterMs, s.MaxJitterMs))
	}
	if s.MaxLossPct > 0 && m.PacketLossPct > s.MaxLossPct {
		parts = append(parts, fmt.Sprintf("loss %.1f%% > %.1f%%", m.PacketLossPct, s.MaxLossPct))
	}
	return strings.Join(parts, ", ")
}

// scheduleLocked arranges a rebuild when the next hold-down ends.
func (e *Engine) scheduleLocked(at, now time.Time) {
	c := &e.ctl
	if at.IsZero() {
		c.stopTimer()
		c.timerAt = time.Time{}
		return
	}
	if c.timer != nil && c.timerAt.Equal(at) {
		return
	}
	c.stopTimer()
	c.timerAt = at
	c.timer = e.opts.AfterFunc(at.Sub(now), func() {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return
		}
		e.ctl.timer = nil
		evs := e.rebuildLocked()
		e.deliverUnlock(evs)
	})
}
