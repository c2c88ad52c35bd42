package probe_test

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/edge/probe/probetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	key   = []byte("a key the two sites agreed on 32")
	addrA = netip.MustParseAddrPort("192.0.2.1:4789")
	addrB = netip.MustParseAddrPort("198.51.100.1:4789")
	quiet = slog.New(slog.DiscardHandler)
)

// recorder collects a prober's transitions.
type recorder struct {
	mu  sync.Mutex
	trs []probe.Transition
}

func (r *recorder) record(tr probe.Transition, _ probe.Metrics) {
	r.mu.Lock()
	r.trs = append(r.trs, tr)
	r.mu.Unlock()
}

func (r *recorder) take() []probe.Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	trs := r.trs
	r.trs = nil
	return trs
}

// site is one side of an in-memory path: a Mux on its own conn.
func site(t *testing.T, n *probetest.Network, addr netip.AddrPort) *probe.Mux {
	t.Helper()
	c, err := n.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	m := probe.NewMux(c, quiet, time.Now)
	t.Cleanup(func() { m.Close() })
	return m
}

// The whole monitor, end to end over an emulated lossy path in fake time:
// up, cut, detected, healed, back.
func TestProberCutAndHeal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := probetest.New(1)
		link := probetest.Link{Delay: 10 * time.Millisecond, Jitter: 3 * time.Millisecond, Loss: 0.02}
		n.SetPath(addrA, addrB, link)
		a, b := site(t, n, addrA), site(t, n, addrB)
		if err := b.Respond(7, key); err != nil {
			t.Fatal(err)
		}
		var rec recorder
		p, err := a.SetPath(probe.PathConfig{ID: 7, Key: key, Remote: addrB, OnTransition: rec.record})
		if err != nil {
			t.Fatal(err)
		}

		time.Sleep(30 * time.Second)
		m := p.Metrics()
		if m.State != probe.StateUp {
			t.Fatalf("after 30 s: %+v, want up", m)
		}
		if m.LatencyMs < 15 || m.LatencyMs > 25 || m.P50Ms < 15 || m.P95Ms > 35 {
			t.Errorf("latency %.1f ms, p50 %.1f, p95 %.1f; want about 20", m.LatencyMs, m.P50Ms, m.P95Ms)
		}
		if m.JitterMs <= 0 || m.JitterFwdMs <= 0 || m.JitterRevMs <= 0 || m.MOS < 4 || m.Score < 85 {
			t.Errorf("jitter %.2f/%.2f/%.2f MOS %.2f score %.1f", m.JitterMs, m.JitterFwdMs, m.JitterRevMs, m.MOS, m.Score)
		}
		if m.Sent < 300 || m.Received+m.Lost > m.Sent || m.MeasuredAt.IsZero() {
			t.Errorf("counters sent %d received %d lost %d measured at %v", m.Sent, m.Received, m.Lost, m.MeasuredAt)
		}
		if trs := rec.take(); len(trs) != 1 || trs[0].To != probe.StateUp {
			t.Errorf("transitions %+v, want one Up", trs)
		}

		cut := time.Now()
		n.SetPath(addrA, addrB, probetest.Link{Down: true})
		time.Sleep(2 * time.Second)
		trs := rec.take()
		if len(trs) != 1 || trs[0].To != probe.StateDown {
			t.Fatalf("after the cut: %+v, want one Down", trs)
		}
		if d := trs[0].At.Sub(cut); d > 350*time.Millisecond {
			t.Errorf("Down %v after the cut, want within 350ms", d)
		}
		down := p.Metrics()
		if down.Score != 0 || down.State != probe.StateDown {
			t.Errorf("a Down path: state %v score %v, want down and 0", down.State, down.Score)
		}

		n.SetPath(addrA, addrB, link)
		time.Sleep(20 * time.Second)
		if m := p.Metrics(); m.State != probe.StateUp || m.Sent <= down.Sent+150 {
			t.Errorf("after healing: %v with %d probes sent (%d at Down); want up, probing all along", m.State, m.Sent, down.Sent)
		}
		if st := a.Stats(); st.BadMAC != 0 || st.Malformed != 0 || st.Replies == 0 {
			t.Errorf("prober side stats %+v", st)
		}
		if st := b.Stats(); st.Answered == 0 || st.BadMAC != 0 {
			t.Errorf("responder side stats %+v", st)
		}
	})
}

// A path nobody answers is Down with nothing measured, and keeps being
// probed.
func TestProberUnansweredPathIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := probetest.New(1)
		a, b := site(t, n, addrA), site(t, n, addrB)
		_ = b // listening, but not responding to session 7
		p, err := a.SetPath(probe.PathConfig{ID: 7, Key: key, Remote: addrB})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		m := p.Metrics()
		if m.State != probe.StateDown || m.LatencyMs != 0 || m.Score != 0 || m.MOS != 0 || m.Received != 0 || !m.MeasuredAt.IsZero() {
			t.Errorf("unanswered path: %+v; want down and nothing measured", m)
		}
		if m.Sent < 95 {
			t.Errorf("sent %d probes in 10 s, want about 100", m.Sent)
		}
		if st := b.Stats(); st.UnknownSession < 95 {
			t.Errorf("responder counted %d requests for an unknown session", st.UnknownSession)
		}
	})
}

func TestProberCheckNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := probetest.New(1)
		n.SetPath(addrA, addrB, probetest.Link{Delay: 15 * time.Millisecond})
		a, b := site(t, n, addrA), site(t, n, addrB)
		b.Respond(7, key)
		cfg := probe.Config{Interval: time.Hour, ConfirmInterval: 20 * time.Millisecond} // only the check probes
		p, _ := a.SetPath(probe.PathConfig{ID: 7, Key: key, Remote: addrB, Config: cfg})
		start := time.Now()
		r, err := p.CheckNow(context.Background(), 5)
		if err != nil {
			t.Fatal(err)
		}
		if r.Sent != 5 || r.Received != 5 || r.LossPct != 0 || r.LatencyMs != 30 || r.MinMs != 30 || r.JitterMs != 0 {
			t.Errorf("check: %+v", r)
		}
		// Five probes paced at ConfirmInterval, the last one answered
		// 30 ms after it left.
		if took := time.Since(start); took != 4*cfg.Normalize().ConfirmInterval+30*time.Millisecond {
			t.Errorf("check took %v", took)
		}
		if r.Path.Received != 6 { // the first regular probe and the five
			t.Errorf("path received %d probes, want 6", r.Path.Received)
		}

		n.SetPath(addrA, addrB, probetest.Link{Down: true})
		r, err = p.CheckNow(context.Background(), 3)
		if err != nil || r.Received != 0 || r.LossPct != 100 || r.LatencyMs != 0 {
			t.Errorf("check of a cut path: %+v, %v", r, err)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		if _, err := p.CheckNow(ctx, 3); err != context.DeadlineExceeded {
			t.Errorf("check with a short deadline: %v", err)
		}
		if _, err := p.CheckNow(context.Background(), 0); err == nil {
			t.Error("a check of 0 probes succeeded")
		}
	})
}

// SetPath is declarative: repeating it keeps the prober and its history,
// and RemovePath stops it.
func TestMuxSetPathIsIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := probetest.New(1)
		a, b := site(t, n, addrA), site(t, n, addrB)
		b.Respond(7, key)
		pc := probe.PathConfig{ID: 7, Key: key, Remote: addrB}
		p1, _ := a.SetPath(pc)
		time.Sleep(2 * time.Second)
		pc.Config.Interval = 50 * time.Millisecond
		p2, err := a.SetPath(pc)
		if err != nil || p1 != p2 {
			t.Fatalf("second SetPath: %p %v, want the same prober %p", p2, err, p1)
		}
		before := p2.Metrics().Sent
		time.Sleep(time.Second)
		if sent := p2.Metrics().Sent - before; sent < 19 || sent > 21 {
			t.Errorf("sent %d probes in 1 s at 50 ms, want 20", sent)
		}
		if _, err := a.SetPath(probe.PathConfig{ID: 8, Key: []byte("short"), Remote: addrB}); err == nil {
			t.Error("accepted a short key")
		}
		if _, err := a.SetPath(probe.PathConfig{ID: 8, Key: key}); err == nil {
			t.Error("accepted a path without a remote")
		}
		a.RemovePath(7)
		if _, ok := a.Prober(7); ok {
			t.Error("prober still there after RemovePath")
		}
		sent := a.Stats().Sent
		time.Sleep(time.Second)
		if got := a.Stats().Sent; got != sent {
			t.Errorf("%d probes sent after RemovePath", got-sent)
		}
	})
}

// Packets an off-path sender can make are counted and ignored: garbage,
// replies under the wrong key, and well-formed authentic-looking replies to
// probes that are not outstanding.
func TestMuxRejectsForgeries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := probetest.New(1)
		a, b := site(t, n, addrA), site(t, n, addrB)
		b.Respond(7, key)
		p, _ := a.SetPath(probe.PathConfig{ID: 7, Key: key, Remote: addrB})
		time.Sleep(2*time.Second + 50*time.Millisecond) // between two probes
		before := p.Metrics()

		evil, _ := n.Listen(netip.MustParseAddrPort("203.0.113.66:666"))
		defer evil.Close()
		wrong, _ := probe.NewAuthenticator([]byte("not the key, but long enough"))
		right, _ := probe.NewAuthenticator(key)
		var buf [probe.PacketLen]byte
		evil.WriteToUDPAddrPort([]byte("hello"), addrA)
		evil.WriteToUDPAddrPort(wrong.Seal(buf[:], &probe.Packet{Type: probe.TypeReply, Session: 7, Seq: before.Sent + 1}), addrA)
		// Even with the key, a reply to no outstanding probe (an old seq,
		// a guessed nonce) is not an answer.
		evil.WriteToUDPAddrPort(right.Seal(buf[:], &probe.Packet{Type: probe.TypeReply, Session: 7, Seq: 3, Nonce: 12345}), addrA)
		evil.WriteToUDPAddrPort(right.Seal(buf[:], &probe.Packet{Type: probe.TypeReply, Session: 99, Seq: 3}), addrA)
		// A request for the session under the wrong key gets no answer.
		evil.WriteToUDPAddrPort(wrong.Seal(buf[:], &probe.Packet{Type: probe.TypeRequest, Session: 7, Seq: 1}), addrB)
		synctest.Wait()

		st := a.Stats()
		if st.Malformed != 1 || st.BadMAC != 1 || st.Unmatched != 1 || st.UnknownSession != 1 {
			t.Errorf("prober side stats %+v, want one of each rejection", st)
		}
		if st := b.Stats(); st.BadMAC != 1 {
			t.Errorf("responder side stats %+v, want one bad MAC", st)
		}
		if m := p.Metrics(); m.Received != before.Received || m.Late != 0 {
			t.Errorf("forgeries changed the path: received %d -> %d, late %d", before.Received, m.Received, m.Late)
		}
	})
}

// The same over real UDP on loopback, briefly and in real time: synctest
// cannot fake socket IO.
func TestMuxOverLoopbackUDP(t *testing.T) {
	listen := func() (*net.UDPConn, netip.AddrPort) {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			t.Skipf("no loopback UDP: %v", err)
		}
		return c, c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	ca, _ := listen()
	cb, addrB := listen()
	a := probe.NewMux(ca, quiet, time.Now)
	defer a.Close()
	b := probe.NewMux(cb, quiet, time.Now)
	defer b.Close()
	if err := b.Respond(1, key); err != nil {
		t.Fatal(err)
	}
	cfg := probe.Config{Interval: 10 * time.Millisecond, RecoverProbes: 5}
	up := make(chan struct{})
	var once sync.Once
	p, err := a.SetPath(probe.PathConfig{ID: 1, Key: key, Remote: addrB, Config: cfg, OnTransition: func(tr probe.Transition, _ probe.Metrics) {
		if tr.To == probe.StateUp {
			once.Do(func() { close(up) })
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-up:
	case <-time.After(10 * time.Second):
		t.Fatalf("not up after 10 s: %+v", p.Metrics())
	}
	r, err := p.CheckNow(context.Background(), 3)
	if err != nil || r.Sent != 3 || r.Received == 0 || r.LatencyMs <= 0 || r.LatencyMs > 100 {
		t.Errorf("check over loopback: %+v, %v", r, err)
	}
	m := p.Metrics()
	if m.Received < 5 || m.LatencyMs <= 0 || m.JitterFwdMs < 0 {
		t.Errorf("metrics over loopback: %+v", m)
	}
	if st := b.Stats(); st.Answered < 5 {
		t.Errorf("responder answered %d", st.Answered)
	}
}

// The lab's flap figure through the whole stack (Mux, Prober, responder,
// HMAC, emulated link) in fake time: 10,000 probes at 2% loss and 10 ms
// jitter per direction, no Down.
func TestProberNoDownUnderRandomLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := probetest.New(42)
		n.SetPath(addrA, addrB, probetest.Link{Delay: 15 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.02})
		a, b := site(t, n, addrA), site(t, n, addrB)
		b.Respond(7, key)
		var rec recorder
		p, _ := a.SetPath(probe.PathConfig{ID: 7, Key: key, Remote: addrB, OnTransition: rec.record})
		time.Sleep(10000 * 100 * time.Millisecond)
		trs := rec.take()
		for _, tr := range trs {
			if tr.To == probe.StateDown {
				t.Errorf("Down under random loss: %+v", tr)
			}
		}
		m := p.Metrics()
		t.Logf("%d transitions; sent %d, received %d, lost %d, late %d; loss %.1f%% jitter %.1f ms",
			len(trs), m.Sent, m.Received, m.Lost, m.Late, m.LossPct, m.JitterMs)
		if m.State == probe.StateDown || m.Sent < 10000 {
			t.Errorf("final %v after %d probes", m.State, m.Sent)
		}
	})
}
