package control

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// edgeWorld is two sites with one link each and a path each way.
type edgeWorld struct {
	svc          *Service
	hub          *EdgeHub
	sub          *events.Subscription
	a, b         sdwan.Site
	ea, eb       sdwan.Endpoint
	ab, ba       sdwan.Path
	edgeA, edgeB auth.Principal
}

func newEdgeWorld(t *testing.T, cfg EdgeHubConfig) *edgeWorld {
	t.Helper()
	ctx := context.Background()
	svc, sub := newService(t)
	hub, err := NewEdgeHub(ctx, svc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &edgeWorld{svc: svc, hub: hub, sub: sub, a: sdwan.Site{Name: "a"}, b: sdwan.Site{Name: "b"}}
	for _, s := range []*sdwan.Site{&w.a, &w.b} {
		if err := svc.CreateSite(ctx, admin, s); err != nil {
			t.Fatal(err)
		}
	}
	w.ea = sdwan.Endpoint{SiteID: w.a.ID, Name: "wan1", Address: netip.MustParseAddrPort("192.0.2.1:4500")}
	w.eb = sdwan.Endpoint{SiteID: w.b.ID, Name: "wan1", Address: netip.MustParseAddrPort("198.51.100.1:4500")}
	for _, e := range []*sdwan.Endpoint{&w.ea, &w.eb} {
		if err := svc.CreateEndpoint(ctx, admin, e); err != nil {
			t.Fatal(err)
		}
	}
	w.ab = sdwan.Path{SrcEndpointID: w.ea.ID, DstEndpointID: w.eb.ID}
	w.ba = sdwan.Path{SrcEndpointID: w.eb.ID, DstEndpointID: w.ea.ID}
	for _, p := range []*sdwan.Path{&w.ab, &w.ba} {
		if err := svc.CreatePath(ctx, admin, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []struct {
		site *sdwan.Site
		p    *auth.Principal
	}{{&w.a, &w.edgeA}, {&w.b, &w.edgeB}} {
		key, err := svc.IssueSiteCredential(ctx, admin, x.site.ID)
		if err != nil {
			t.Fatal(err)
		}
		if *x.p, err = hub.Authenticate(ctx, key.Key); err != nil {
			t.Fatal(err)
		}
	}
	drain(sub)
	return w
}

func TestEdgeConfigPairsProbersWithResponders(t *testing.T) {
	w := newEdgeWorld(t, EdgeHubConfig{Probe: edgeapi.ProbeSettings{IntervalMs: 50}})
	ctx := context.Background()
	ca, err := w.hub.DesiredConfig(ctx, w.edgeA)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := w.hub.DesiredConfig(ctx, w.edgeB)
	if err != nil {
		t.Fatal(err)
	}
	if len(ca.Paths) != 1 || len(ca.Answer) != 1 || len(cb.Paths) != 1 || len(cb.Answer) != 1 {
		t.Fatalf("config a: %d paths %d answers; b: %d paths %d answers; want 1 each", len(ca.Paths), len(ca.Answer), len(cb.Paths), len(cb.Answer))
	}
	p, r := ca.Paths[0], cb.Answer[0]
	if p.ID != w.ab.ID || r.PathID != w.ab.ID || p.Remote != w.eb.Address || p.SrcLinkID != w.ea.ID || r.LinkID != w.eb.ID {
		t.Errorf("a's prober %+v and b's responder %+v do not describe path a->b", p, r)
	}
	if p.Session != r.Session || string(p.Key) != string(r.Key) || len(p.Key) < 16 {
		t.Errorf("prober and responder disagree on session or key: %d/%d", p.Session, r.Session)
	}
	if string(ca.Paths[0].Key) == string(cb.Paths[0].Key) {
		t.Error("the two directions share a probe key")
	}
	if ca.Probe.IntervalMs != 50 || len(ca.Peers) != 1 || ca.Peers[0].Name != "b" || len(ca.Peers[0].Links) != 1 {
		t.Errorf("config a = %+v", ca)
	}
	again, _ := w.hub.DesiredConfig(ctx, w.edgeA)
	if again.Version != ca.Version {
		t.Errorf("version changed without a change: %s -> %s", ca.Version, again.Version)
	}
	if _, err := w.hub.DesiredConfig(ctx, admin); !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("config for an admin user: %v, want forbidden", err)
	}
}

func TestEdgeStreamFollowsChanges(t *testing.T) {
	w := newEdgeWorld(t, EdgeHubConfig{Debounce: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, _ := w.hub.DesiredConfig(ctx, w.edgeA)
	msgs, err := w.hub.Stream(ctx, w.edgeA, first.Version)
	if err != nil {
		t.Fatal(err)
	}
	if !w.hub.Connected(w.a.ID) || w.hub.Connected(w.b.ID) {
		t.Error("Connected does not reflect the open stream")
	}
	select {
	case m := <-msgs:
		t.Fatalf("got %s for the version the edge already runs", m.Type)
	case <-time.After(50 * time.Millisecond):
	}
	// A change elsewhere in the topology that alters a's config: a new
	// link at b (a peer's link).
	e := sdwan.Endpoint{SiteID: w.b.ID, Name: "wan2", Address: netip.MustParseAddrPort("198.51.100.2:4500")}
	if err := w.svc.CreateEndpoint(ctx, admin, &e); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		if m.Type != edgeapi.MsgConfig || m.Config.Version == first.Version || len(m.Config.Peers[0].Links) != 2 {
			t.Fatalf("after the change got %+v", m)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no new config within 2 s of the change")
	}
	cancel()
	for range msgs {
	}
	if w.hub.Connected(w.a.ID) {
		t.Error("still connected after the stream ended")
	}
}

func TestEdgeReportsAreScopedToOwnPaths(t *testing.T) {
	w := newEdgeWorld(t, EdgeHubConfig{})
	ctx := context.Background()
	now := time.Now().UTC()
	own := edgeapi.MetricsBatch{Metrics: []edgeapi.Metrics{{PathID: w.ab.ID, State: "up", LatencyMs: 12.5, Score: 97, MeasuredAt: now}}}
	if err := w.hub.ReportMetrics(ctx, w.edgeA, own); err != nil {
		t.Fatal(err)
	}
	m, err := w.svc.Store().Read().LatestPathMetrics(ctx, w.ab.ID)
	if err != nil || m.LatencyMs != 12.5 || m.Score != 97 {
		t.Errorf("stored metrics = %+v, %v", m, err)
	}
	var kinds []events.Kind
	for _, e := range drain(w.sub) {
		kinds = append(kinds, e.Kind)
	}
	if diff := cmp.Diff([]events.Kind{events.PathMetrics}, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	foreign := edgeapi.MetricsBatch{Metrics: []edgeapi.Metrics{{PathID: w.ba.ID, State: "up", MeasuredAt: now}}}
	if err := w.hub.ReportMetrics(ctx, w.edgeA, foreign); !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("metrics for b's path from a's edge: %v, want forbidden", err)
	}
	if err := w.hub.ReportStates(ctx, w.edgeA, edgeapi.StateBatch{Changes: []edgeapi.StateChange{{PathID: w.ba.ID, To: "up"}}}); !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("state of b's path from a's edge: %v, want forbidden", err)
	}
	if err := w.hub.ReportMetrics(ctx, operator, own); !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("metrics from an operator: %v, want forbidden", err)
	}
	gone := edgeapi.MetricsBatch{Metrics: []edgeapi.Metrics{{PathID: "no-such-path", State: "up", MeasuredAt: now}}}
	if err := w.hub.ReportMetrics(ctx, w.edgeA, gone); err != nil {
		t.Errorf("metrics for a deleted path: %v, want it skipped", err)
	}

	// State changes: recorded once; a resync of the same state adds
	// nothing.
	up := edgeapi.StateBatch{Changes: []edgeapi.StateChange{{PathID: w.ab.ID, From: "down", To: "up", Reason: "10 good probes"}}}
	for range 2 {
		if err := w.hub.ReportStates(ctx, w.edgeA, up); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := w.svc.Store().Read().Path(ctx, w.ab.ID)
	evs, _ := w.svc.Store().Read().PathEvents(ctx, w.ab.ID, now.Add(-time.Minute), time.Now().Add(time.Minute), 10)
	if p.Status != sdwan.PathUp || len(evs) != 1 || evs[0].Reason != "10 good probes" {
		t.Errorf("status %s, events %+v; want up with one event", p.Status, evs)
	}
}

func TestCheckPathHealth(t *testing.T) {
	w := newEdgeWorld(t, EdgeHubConfig{CheckTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := w.hub.CheckPathHealth(ctx, w.ab)
	if !errors.Is(err, sdwan.ErrUnavailable) || !strings.Contains(err.Error(), "no edge connected for site a") {
		t.Fatalf("check without an edge: %v", err)
	}
	msgs, err := w.hub.Stream(ctx, w.edgeA, "")
	if err != nil {
		t.Fatal(err)
	}
	<-msgs // the config

	// An edge that answers.
	go func() {
		m := <-msgs
		if m.Type != edgeapi.MsgCheck || m.Check.PathID != w.ab.ID || m.Check.Probes != 10 {
			t.Errorf("edge got %+v", m)
			return
		}
		r := edgeapi.CheckResult{ID: m.Check.ID, PathID: w.ab.ID, Sent: 10, Received: 9,
			Metrics: edgeapi.Metrics{PathID: w.ab.ID, State: "up", LatencyMs: 3.5, PacketLossPct: 10, Score: 80, MeasuredAt: time.Now()}}
		if err := w.hub.CompleteCheck(ctx, w.edgeB, r); !errors.Is(err, sdwan.ErrForbidden) {
			t.Errorf("b completing a's check: %v, want forbidden", err)
		}
		if err := w.hub.CompleteCheck(ctx, w.edgeA, r); err != nil {
			t.Error(err)
		}
	}()
	m, err := w.hub.CheckPathHealth(ctx, w.ab)
	if err != nil {
		t.Fatal(err)
	}
	if m.PathID != w.ab.ID || m.LatencyMs != 3.5 || m.PacketLossPct != 10 {
		t.Errorf("check = %+v", m)
	}
	evs, _ := w.svc.Store().Read().PathEvents(ctx, w.ab.ID, time.Now().Add(-time.Minute), time.Now().Add(time.Minute), 10)
	if len(evs) != 1 || evs[0].Kind != "health_check" {
		t.Errorf("events after a check: %+v", evs)
	}

	// An edge that stays silent.
	go func() { <-msgs }()
	if _, err := w.hub.CheckPathHealth(ctx, w.ab); !errors.Is(err, sdwan.ErrUnavailable) || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("check of a silent edge: %v", err)
	}
}

func TestIntegrateAvailability(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	at := func(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }
	ev := func(h float64, to sdwan.PathStatus) store.PathEvent {
		return store.PathEvent{At: at(h), Kind: "state", To: to}
	}
	tests := []struct {
		name               string
		initial            sdwan.PathStatus
		evs                []store.PathEvent
		created, now       time.Time
		window             time.Duration
		up, degraded, down time.Duration
		uptime             float64
	}{
		{name: "never reported", initial: sdwan.PathDown, created: at(0), now: at(10), window: 24 * time.Hour,
			down: 10 * time.Hour, uptime: 0},
		{name: "up after an hour", initial: sdwan.PathDown, evs: []store.PathEvent{ev(1, sdwan.PathUp)}, created: at(0), now: at(10),
			window: 24 * time.Hour, up: 9 * time.Hour, down: time.Hour, uptime: 90},
		{name: "degraded counts as up time", initial: sdwan.PathUp,
			evs:     []store.PathEvent{ev(2, sdwan.PathDegraded), ev(4, sdwan.PathUp), ev(6, sdwan.PathDown), ev(7, sdwan.PathUp)},
			created: at(-100), now: at(10), window: 10 * time.Hour, up: 7 * time.Hour, degraded: 2 * time.Hour, down: time.Hour, uptime: 90},
		{name: "events before the window set its start", initial: sdwan.PathDown,
			evs:     []store.PathEvent{ev(-5, sdwan.PathUp), ev(5, sdwan.PathDown)},
			created: at(-100), now: at(10), window: 10 * time.Hour, up: 5 * time.Hour, down: 5 * time.Hour, uptime: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := integrate(tt.initial, tt.evs, tt.created, tt.now, tt.window)
			got := []time.Duration{w.Up, w.Degraded, w.Down}
			if diff := cmp.Diff([]time.Duration{tt.up, tt.degraded, tt.down}, got); diff != "" {
				t.Errorf("up, degraded, down (-want +got):\n%s", diff)
			}
			if w.UptimePct != tt.uptime || w.Covered != tt.up+tt.degraded+tt.down {
				t.Errorf("uptime %.2f%% over %v, want %.2f%%", w.UptimePct, w.Covered, tt.uptime)
			}
		})
	}
}

func TestPruneAndAvailabilityFromTheStore(t *testing.T) {
	w := newEdgeWorld(t, EdgeHubConfig{})
	ctx := context.Background()
	old := time.Now().Add(-8 * 24 * time.Hour).UTC()
	batch := edgeapi.MetricsBatch{Metrics: []edgeapi.Metrics{
		{PathID: w.ab.ID, State: "up", MeasuredAt: old},
		{PathID: w.ab.ID, State: "up", MeasuredAt: time.Now().UTC()},
	}}
	if err := w.hub.ReportMetrics(ctx, w.edgeA, batch); err != nil {
		t.Fatal(err)
	}
	n, err := w.svc.PrunePathMetrics(ctx, 7*24*time.Hour)
	if err != nil || n != 1 {
		t.Errorf("pruned %d rows (%v), want the one older than 7 days", n, err)
	}
	if err := w.hub.ReportStates(ctx, w.edgeA, edgeapi.StateBatch{Changes: []edgeapi.StateChange{{PathID: w.ab.ID, To: "up"}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	a, err := w.svc.PathAvailability(ctx, viewer, w.ab.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != sdwan.PathUp || a.Day.Up <= 0 || len(a.Last) != 1 || a.Last[0].To != sdwan.PathUp {
		t.Errorf("availability = %+v", a)
	}
}

// TestAvailabilityStartsFromTheLastStateBeforeTheWeek puts a path's last
// state change eight days back, buries it under more health checks than
// one page of events holds, and checks the week still starts Up.
func TestAvailabilityStartsFromTheLastStateBeforeTheWeek(t *testing.T) {
	w := newEdgeWorld(t, EdgeHubConfig{})
	ctx := context.Background()
	eightDays := time.Now().Add(-8 * 24 * time.Hour).UTC()
	err := w.svc.Store().Tx(ctx, func(q store.Q) error {
		if err := q.AddPathEvent(ctx, &store.PathEvent{PathID: w.ab.ID, At: eightDays, Kind: "state", From: sdwan.PathDown, To: sdwan.PathUp}); err != nil {
			return err
		}
		for i := range 150 {
			if err := q.AddPathEvent(ctx, &store.PathEvent{PathID: w.ab.ID, At: eightDays.Add(time.Duration(i+1) * time.Minute), Kind: "health_check"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.svc.PathAvailability(ctx, viewer, w.ab.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Week.Down != 0 || a.Week.UptimePct != 100 {
		t.Errorf("week = %+v; want up throughout, from the state change before it", a.Week)
	}
}
