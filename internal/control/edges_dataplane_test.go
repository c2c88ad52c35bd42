package control

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// flaky is a transport that loses requests, loses answers and repeats
// requests, the failures an edge's reports meet on a bad WAN.
type flaky struct {
	mu   sync.Mutex
	rnd  *rand.Rand
	base http.RoundTripper
	// counts of what it did
	lostReq, lostResp, dup int
}

var errInjected = errors.New("injected network failure")

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	x := f.rnd.IntN(100)
	f.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	send := func() (*http.Response, error) {
		req := r.Clone(r.Context())
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		req.ContentLength = int64(len(body))
		return f.base.RoundTrip(req)
	}
	count := func(n *int) {
		f.mu.Lock()
		*n++
		f.mu.Unlock()
	}
	switch {
	case x < 20: // the request never arrives
		count(&f.lostReq)
		return nil, errInjected
	case x < 40: // it arrives and is applied, the answer is lost
		count(&f.lostResp)
		resp, err := send()
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return nil, errInjected
	case x < 60: // it arrives twice; the edge sees the second answer
		count(&f.dup)
		if resp, err := send(); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return send()
	}
	return send()
}

// dataPlaneWorld serves the edge API of a two-site world over HTTP and
// returns a client for site a's edge whose transport is tr.
func dataPlaneWorld(t *testing.T, tr func(http.RoundTripper) http.RoundTripper) (*edgeWorld, *TrafficStats, *edgeapi.Client) {
	t.Helper()
	ctx := context.Background()
	w := newEdgeWorld(t, EdgeHubConfig{})
	traffic, err := NewTrafficStats(ctx, w.svc.st, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.hub.SetTraffic(traffic)
	srv := httptest.NewServer(edgeapi.NewHandler(w.hub, edgeapi.HandlerConfig{}))
	t.Cleanup(srv.Close)
	key, err := w.svc.IssueSiteCredential(ctx, admin, w.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	base := srv.Client().Transport
	hc := &http.Client{Transport: tr(base)}
	t.Cleanup(hc.CloseIdleConnections)
	c, err := edgeapi.NewClient(srv.URL, key.Key, hc)
	if err != nil {
		t.Fatal(err)
	}
	return w, traffic, c
}

// TestTrafficReportsSurviveLossAndDuplication sends an edge's per-policy
// deltas through the HTTP endpoint over a transport that loses a fifth of
// the requests, a fifth of the answers and repeats a fifth, and checks that
// the controller's totals equal what the edge counted: nothing lost,
// nothing counted twice.
func TestTrafficReportsSurviveLossAndDuplication(t *testing.T) {
	f := &flaky{rnd: rand.New(rand.NewPCG(1, 2))}
	w, traffic, client := dataPlaneWorld(t, func(b http.RoundTripper) http.RoundTripper { f.base = b; return f })
	ctx := context.Background()
	coll, err := stats.New(stats.Config{Capacity: 1024})
	if err != nil {
		t.Fatal(err)
	}
	rep := stats.NewReporter(stats.ReporterConfig{Source: coll, Edge: "edge", Site: w.a.ID})
	want := map[int64][2]uint64{}
	rnd := rand.New(rand.NewPCG(3, 4))
	src, dst := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.1")
	send := func() {
		r, ok := rep.Next()
		if !ok {
			return
		}
		ack, err := client.ReportTraffic(ctx, edgeapi.FromStats(r))
		if err != nil {
			if !errors.Is(err, errInjected) {
				t.Fatalf("report %d: %v", r.Seq, err)
			}
			return
		}
		rep.Ack(ack.Seq)
	}
	for round := range 300 {
		for range rnd.IntN(20) {
			pol := int64(rnd.IntN(3)) // 0 is the unmatched traffic
			size := 40 + rnd.IntN(1400)
			coll.RecordPacket(pol, sdwan.NewFlowKey(src, dst, uint16(1000+round%7), 443, 6), size)
			cur := want[pol]
			want[pol] = [2]uint64{cur[0] + 1, cur[1] + uint64(size)}
		}
		send()
	}
	// Drain: whatever is pending goes through in the end.
	for i := 0; ; i++ {
		if _, ok := rep.Next(); !ok {
			break
		}
		if i > 1000 {
			t.Fatal("the reports never got through")
		}
		send()
	}
	t.Logf("injected: %d requests lost, %d answers lost, %d requests repeated", f.lostReq, f.lostResp, f.dup)
	if f.lostReq == 0 || f.lostResp == 0 || f.dup == 0 {
		t.Fatal("the transport injected no failure of some kind; the test proves nothing")
	}
	for pol, c := range want {
		got := traffic.SitePolicyTotals(w.a.ID, pol)
		if got.Packets != c[0] || got.Bytes != c[1] {
			t.Errorf("policy %d: controller has %d packets, %d bytes; the edge counted %d, %d", pol, got.Packets, got.Bytes, c[0], c[1])
		}
	}
}

func TestTrafficReportForAnotherSiteIsRefused(t *testing.T) {
	w, _, client := dataPlaneWorld(t, func(b http.RoundTripper) http.RoundTripper { return b })
	_, err := client.ReportTraffic(context.Background(), edgeapi.TrafficReport{Edge: "edge", Site: w.b.ID, Epoch: 1, Seq: 1,
		Deltas: []edgeapi.TrafficDelta{{PolicyID: 1, Packets: 1, Bytes: 100}}})
	if !errors.Is(err, sdwan.ErrForbidden) {
		t.Fatalf("site a's edge reporting for site b: %v, want forbidden", err)
	}
}

// TestRegisterKey registers a site's WireGuard key through the edge API:
// the site gets it, it is audited once however often the edge registers
// it, and the peers' configuration carries it.
func TestRegisterKey(t *testing.T) {
	w, _, client := dataPlaneWorld(t, func(b http.RoundTripper) http.RoundTripper { return b })
	ctx := context.Background()
	const pub = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
	for range 3 {
		if err := client.RegisterKey(ctx, pub); err != nil {
			t.Fatal(err)
		}
	}
	site, err := w.svc.st.Read().Site(ctx, w.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if site.PublicKey != pub {
		t.Errorf("site key %q, want %q", site.PublicKey, pub)
	}
	_, n, err := w.svc.st.Read().AuditLog(ctx, store.AuditFilter{ActionPrefix: "site.key"}, store.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d audit entries for three registrations of one key, want 1", n)
	}
	cb, err := w.hub.DesiredConfig(ctx, w.edgeB)
	if err != nil {
		t.Fatal(err)
	}
	if len(cb.Peers) != 1 || cb.Peers[0].PublicKey != pub {
		t.Errorf("site b's peers %+v, want site a with key %s", cb.Peers, pub)
	}
	var se *edgeapi.StatusError
	if err := client.RegisterKey(ctx, "not a key"); !errors.As(err, &se) || se.Status != http.StatusBadRequest {
		t.Errorf("a malformed key: %v, want 400", err)
	}
}

// TestFlowEventsArePathEvents reports a failover through the edge API and
// finds it among the path's events, with its reason, and on the bus.
func TestFlowEventsArePathEvents(t *testing.T) {
	w, _, client := dataPlaneWorld(t, func(b http.RoundTripper) http.RoundTripper { return b })
	ctx := context.Background()
	drain(w.sub)
	at := time.Now().UTC().Truncate(time.Millisecond)
	err := client.ReportFlowEvents(ctx, edgeapi.FlowEventBatch{Events: []edgeapi.FlowEvent{
		{Kind: "failover", At: at, From: w.ab.ID, Policies: []int64{0, 7}, Reason: "path went down"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := w.svc.st.Read().PathEvents(ctx, w.ab.ID, at.Add(-time.Second), at.Add(time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != "failover" || !strings.Contains(evs[0].Reason, "path went down") || !strings.Contains(evs[0].Reason, "policies 0 7") {
		t.Fatalf("path events %+v, want one failover with its reason and policies", evs)
	}
	var seen bool
	for _, e := range drain(w.sub) {
		seen = seen || (e.Kind == events.PathFailover && e.PathID == w.ab.ID)
	}
	if !seen {
		t.Error("no PathFailover event published")
	}
	// Site b's path is not site a's to report on.
	err = client.ReportFlowEvents(ctx, edgeapi.FlowEventBatch{Events: []edgeapi.FlowEvent{{Kind: "failover", At: at, From: w.ba.ID}}})
	if !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("a failover on another site's path: %v, want forbidden", err)
	}
}
