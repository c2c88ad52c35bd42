package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/edge/probe/probetest"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memConn makes a probetest conn a net.PacketConn; the agent uses only
// the probe.PacketConn methods.
type memConn struct{ *probetest.Conn }

func (c memConn) ReadFrom([]byte) (int, net.Addr, error) { return 0, nil, errors.ErrUnsupported }
func (c memConn) WriteTo([]byte, net.Addr) (int, error)  { return 0, errors.ErrUnsupported }
func (c memConn) LocalAddr() net.Addr                    { return net.UDPAddrFromAddrPort(c.Conn.LocalAddr()) }
func (c memConn) SetDeadline(time.Time) error            { return nil }
func (c memConn) SetReadDeadline(time.Time) error        { return nil }
func (c memConn) SetWriteDeadline(time.Time) error       { return nil }

// dialer opens links on an in-memory network and counts the opens.
type dialer struct {
	net   *probetest.Network
	mu    sync.Mutex
	opens map[string]int
}

func (d *dialer) dial(e sdwan.Endpoint) (net.PacketConn, error) {
	c, err := d.net.Listen(e.Address)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.opens[e.Name]++
	d.mu.Unlock()
	return memConn{c}, nil
}

var (
	addrA = netip.MustParseAddrPort("10.0.0.1:4500")
	addrB = netip.MustParseAddrPort("10.0.0.2:4500")
)

// configs returns the configurations of sites a and b, joined by one path
// each way between their single links.
func configs(probe edgeapi.ProbeSettings) (a, b edgeapi.Config) {
	keyAB, keyBA := []byte("0123456789abcdef-ab"), []byte("0123456789abcdef-ba")
	la := edgeapi.Link{ID: "ea", Name: "wan1", Address: addrA}
	lb := edgeapi.Link{ID: "eb", Name: "wan1", Address: addrB}
	a = edgeapi.Config{Site: edgeapi.Site{ID: "a", Name: "a"}, Links: []edgeapi.Link{la}, Probe: probe,
		Paths:  []edgeapi.Path{{ID: "ab", Session: 1, Key: keyAB, SrcLinkID: "ea", DstLinkID: "eb", Remote: addrB}},
		Answer: []edgeapi.Responder{{PathID: "ba", Session: 2, Key: keyBA, LinkID: "ea"}}}
	b = edgeapi.Config{Site: edgeapi.Site{ID: "b", Name: "b"}, Links: []edgeapi.Link{lb}, Probe: probe,
		Paths:  []edgeapi.Path{{ID: "ba", Session: 2, Key: keyBA, SrcLinkID: "eb", DstLinkID: "ea", Remote: addrA}},
		Answer: []edgeapi.Responder{{PathID: "ab", Session: 1, Key: keyAB, LinkID: "eb"}}}
	a.Seal()
	b.Seal()
	return a, b
}

func newTestAgent(t *testing.T, d *dialer, controller string) *Agent {
	t.Helper()
	a, err := New(Config{Controller: controller, Credential: "pse_test_secret", Dial: d.dial,
		ReportInterval: 50 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestApplyIsIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dialer{net: probetest.New(1), opens: map[string]int{}}
		d.net.SetDefault(probetest.Link{Delay: 5 * time.Millisecond})
		a, b := newTestAgent(t, d, "http://127.0.0.1:1"), newTestAgent(t, d, "http://127.0.0.1:1")
		defer a.Close()
		defer b.Close()
		ca, cb := configs(edgeapi.ProbeSettings{})

		ch, err := a.Apply(ca)
		if err != nil {
			t.Fatal(err)
		}
		if want := (Changes{LinksOpened: 1, PathsAdded: 1, AnswersSet: 1}); ch != want {
			t.Errorf("first apply: %+v, want %+v", ch, want)
		}
		if _, err := b.Apply(cb); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		pr, _ := a.Prober("ab")
		before := pr.Metrics()
		if before.State != probe.StateUp {
			t.Fatalf("path a->b is %s after 3 s, want up", before.State)
		}

		// The same configuration again changes nothing: same socket, same
		// prober, measurements kept.
		for range 3 {
			ch, err := a.Apply(ca)
			if err != nil || !ch.IsZero() {
				t.Fatalf("re-apply: %+v, %v; want no change", ch, err)
			}
		}
		if pr2, _ := a.Prober("ab"); pr2 != pr {
			t.Error("re-apply replaced the prober")
		}
		if d.opens["wan1"] != 2 { // one per agent
			t.Errorf("links opened %d times, want 2", d.opens["wan1"])
		}
		if m := pr.Metrics(); m.Sent < before.Sent || m.State != probe.StateUp {
			t.Errorf("measurements reset by re-apply: %+v", m)
		}

		// New probe settings update the prober in place.
		ca2 := ca
		ca2.Probe = edgeapi.ProbeSettings{IntervalMs: 50}
		ca2.Seal()
		if ch, _ := a.Apply(ca2); ch != (Changes{PathsUpdated: 1}) {
			t.Errorf("new interval: %+v, want one path updated", ch)
		}
		if pr2, _ := a.Prober("ab"); pr2 != pr {
			t.Error("a new interval replaced the prober")
		}

		// Dropping the path and the responder removes them, not the link.
		ca3 := ca2
		ca3.Paths, ca3.Answer = nil, nil
		ca3.Seal()
		if ch, _ := a.Apply(ca3); ch != (Changes{PathsRemoved: 1, AnswersRemoved: 1}) {
			t.Errorf("removal: %+v", ch)
		}
		if _, ok := a.Prober("ab"); ok {
			t.Error("the removed path is still probed")
		}

		// A moved link is reopened.
		ca4 := ca3
		ca4.Links = []edgeapi.Link{{ID: "ea", Name: "wan1", Address: netip.MustParseAddrPort("10.0.0.9:4500")}}
		ca4.Seal()
		if ch, _ := a.Apply(ca4); ch != (Changes{LinksClosed: 1, LinksOpened: 1}) {
			t.Errorf("moved link: %+v", ch)
		}
	})
}

// fakeController serves the edge API over a settable config, and can be
// taken down.
type fakeController struct {
	mu      sync.Mutex
	cfg     edgeapi.Config
	down    bool
	kill    chan struct{}
	since   []string
	metrics int
	states  []edgeapi.StateChange
}

func (f *fakeController) Authenticate(_ context.Context, bearer string) (auth.Principal, error) {
	if bearer != "pse_test_secret" {
		return auth.Principal{}, sdwan.ErrUnauthenticated
	}
	return auth.Principal{Kind: "site", Name: "a", Role: sdwan.RoleEdge, SiteID: "a"}, nil
}

func (f *fakeController) DesiredConfig(context.Context, auth.Principal) (edgeapi.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg, nil
}

func (f *fakeController) Stream(ctx context.Context, _ auth.Principal, since string) (<-chan edgeapi.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, fmt.Errorf("%w: restarting", sdwan.ErrUnavailable)
	}
	f.since = append(f.since, since)
	out := make(chan edgeapi.Message, 1)
	if since != f.cfg.Version {
		cfg := f.cfg
		out <- edgeapi.Message{Type: edgeapi.MsgConfig, Config: &cfg}
	}
	kill := f.kill
	go func() {
		defer close(out)
		select {
		case <-ctx.Done():
		case <-kill:
		}
	}()
	return out, nil
}

func (f *fakeController) ReportMetrics(_ context.Context, _ auth.Principal, b edgeapi.MetricsBatch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return sdwan.ErrUnavailable
	}
	f.metrics += len(b.Metrics)
	return nil
}

func (f *fakeController) ReportStates(_ context.Context, _ auth.Principal, b edgeapi.StateBatch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return sdwan.ErrUnavailable
	}
	f.states = append(f.states, b.Changes...)
	return nil
}

func (f *fakeController) CompleteCheck(context.Context, auth.Principal, edgeapi.CheckResult) error {
	return nil
}

func (f *fakeController) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
	if down {
		close(f.kill) // end the open streams
		f.kill = make(chan struct{})
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunSurvivesControllerOutage(t *testing.T) {
	d := &dialer{net: probetest.New(2), opens: map[string]int{}}
	ca, cb := configs(edgeapi.ProbeSettings{IntervalMs: 20})
	fc := &fakeController{cfg: ca, kill: make(chan struct{})}
	srv := httptest.NewServer(edgeapi.NewHandler(fc, edgeapi.HandlerConfig{PingInterval: 50 * time.Millisecond}))
	defer srv.Close()
	a := newTestAgent(t, d, srv.URL)
	a.cfg.StreamIdle = 300 * time.Millisecond
	peer := newTestAgent(t, d, srv.URL)
	if _, err := peer.Apply(cb); err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	waitUntil(t, "the config applied", func() bool { return a.Version() == ca.Version })
	waitUntil(t, "metrics and the Up transition reported", func() bool {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		for _, s := range fc.states {
			if s.PathID == "ab" && s.To == "up" {
				return fc.metrics > 0
			}
		}
		return false
	})

	fc.setDown(true)
	waitUntil(t, "the agent to notice", func() bool { return !a.Connected() })
	pr, ok := a.Prober("ab")
	if !ok {
		t.Fatal("the agent dropped its paths when the controller went away")
	}
	sent := pr.Metrics().Sent
	time.Sleep(200 * time.Millisecond)
	if pr.Metrics().Sent <= sent {
		t.Error("probing stopped while the controller was away")
	}

	fc.mu.Lock()
	fc.states = nil
	fc.mu.Unlock()
	fc.setDown(false)
	waitUntil(t, "the agent to reconnect and resynchronise", func() bool {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		for _, s := range fc.states {
			if s.PathID == "ab" && s.From == "" && s.To == "up" {
				return true
			}
		}
		return false
	})
	fc.mu.Lock()
	last := fc.since[len(fc.since)-1]
	fc.mu.Unlock()
	if last != ca.Version {
		t.Errorf("reconnected with since=%q, want the running version %q", last, ca.Version)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if _, ok := a.Prober("ab"); ok {
		t.Error("Run left the links open")
	}
}
