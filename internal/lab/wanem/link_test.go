package wanem

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func newTestLink(t testing.TB, name string, seed uint64) *Link {
	t.Helper()
	l, err := NewLink(Config{Name: name, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// readOne reads a datagram from c with a deadline.
func readOne(t testing.TB, c *Conn, timeout time.Duration) ([]byte, netip.AddrPort) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return buf[:n], from
}

func TestLinkCarriesDatagramsBetweenSites(t *testing.T) {
	a := newTestLink(t, "site-1/wan1", 1)
	b := newTestLink(t, "site-2/wan1", 2)
	if got := a.Conn().LocalAddr().(*net.UDPAddr).AddrPort(); got != a.Addr() || !got.Addr().IsLoopback() {
		t.Fatalf("LocalAddr %v, Addr %v: want the same loopback address", got, a.Addr())
	}
	if _, err := a.Conn().WriteTo([]byte("hello"), net.UDPAddrFromAddrPort(b.Addr())); err != nil {
		t.Fatal(err)
	}
	got, from := readOne(t, b.Conn(), 5*time.Second)
	if string(got) != "hello" || from != a.Addr() {
		t.Fatalf("b read %q from %v, want %q from %v", got, from, "hello", a.Addr())
	}
	// And back, through net.PacketConn's interface.
	var pc net.PacketConn = b.Conn()
	if _, err := pc.WriteTo([]byte("world"), net.UDPAddrFromAddrPort(from)); err != nil {
		t.Fatal(err)
	}
	got, from = readOne(t, a.Conn(), 5*time.Second)
	if string(got) != "world" || from != b.Addr() {
		t.Fatalf("a read %q from %v", got, from)
	}
	want := Stats{
		Out: DirStats{Offered: 1, Delivered: 1, DeliveredBytes: 5},
		In:  DirStats{Offered: 1, Delivered: 1, DeliveredBytes: 5},
	}
	if diff := cmp.Diff(want, a.Stats(), cmpopts.IgnoreFields(DirStats{}, "ReleaseLateSum", "ReleaseLateMax")); diff != "" {
		t.Errorf("a's stats (-want +got):\n%s", diff)
	}
}

func TestLinkReachesPlainSockets(t *testing.T) {
	// A stock peer (a real UDP socket) sees the link's public address.
	a := newTestLink(t, "site-1/wan1", 1)
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := a.Conn().WriteToUDPAddrPort([]byte("x"), peer.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "x" || from != a.Addr() {
		t.Fatalf("peer read %q from %v, %v; want \"x\" from %v", buf[:n], from, err, a.Addr())
	}
}

// TestLinkDelayOverLoopback checks the delay end to end with a generous
// tolerance; BenchmarkRTT measures the precise figure.
func TestLinkDelayOverLoopback(t *testing.T) {
	const d = 10 * time.Millisecond
	a := newTestLink(t, "site-1/wan1", 1)
	b := newTestLink(t, "site-2/wan1", 2)
	echo := startEcho(t, b)
	defer echo()
	base := medianRTT(t, a, b.Addr(), 21)
	for _, l := range []*Link{a, b} {
		if err := l.SetImpairment(OutOnly, Impairment{Delay: d}); err != nil {
			t.Fatal(err)
		}
	}
	got := medianRTT(t, a, b.Addr(), 21)
	t.Logf("baseline RTT %v, with %v each way %v", base, d, got)
	if extra := got - base - 2*d; extra < 0 || extra > 5*time.Millisecond {
		t.Errorf("RTT %v with baseline %v, want 2×%v more (tolerance 0..5ms on a shared machine)", got, base, d)
	}
}

// startEcho sends back everything l receives until the returned func is
// called.
func startEcho(t testing.TB, l *Link) (stop func()) {
	t.Helper()
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			l.Conn().SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, from, err := l.Conn().ReadFromUDPAddrPort(buf)
			select {
			case <-done:
				return
			default:
			}
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			l.Conn().WriteToUDPAddrPort(buf[:n], from)
		}
	})
	return func() { close(done); wg.Wait() }
}

// medianRTT sends n sequential probes from a to dst and returns the
// median round trip, which a stall of the shared machine does not move.
func medianRTT(t testing.TB, a *Link, dst netip.AddrPort, n int) time.Duration {
	t.Helper()
	rtts := make([]time.Duration, n)
	for i := range n {
		start := time.Now()
		if _, err := a.Conn().WriteToUDPAddrPort([]byte("probe"), dst); err != nil {
			t.Fatal(err)
		}
		readOne(t, a.Conn(), 5*time.Second)
		rtts[i] = time.Since(start)
	}
	slices.Sort(rtts)
	return rtts[n/2]
}

func TestLinkDownAndUp(t *testing.T) {
	a := newTestLink(t, "site-1/wan1", 1)
	b := newTestLink(t, "site-2/wan1", 2)
	a.SetDown(true)
	if !a.Impairment(Out).Down || !a.Impairment(In).Down {
		t.Fatal("SetDown(true) left a direction up")
	}
	a.Conn().WriteToUDPAddrPort([]byte("lost"), b.Addr())
	b.Conn().WriteToUDPAddrPort([]byte("lost too"), a.Addr())
	// Nothing may arrive; a short wait is enough to catch a leak through
	// loopback, which takes microseconds.
	a.Conn().SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := a.Conn().ReadFrom(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read on a down link: %v, want a timeout", err)
	}
	a.SetDown(false)
	a.Conn().WriteToUDPAddrPort([]byte("back"), b.Addr())
	if got, _ := readOne(t, b.Conn(), 5*time.Second); string(got) != "back" {
		t.Fatalf("after up read %q", got)
	}
	if st := a.Stats(); st.Out.DroppedDown != 1 || st.In.DroppedDown != 1 {
		t.Errorf("down drops out %d in %d, want 1 and 1", st.Out.DroppedDown, st.In.DroppedDown)
	}
}

func TestLinkApplyAndSetImpairment(t *testing.T) {
	l := newTestLink(t, "site-1/wan1", 1)
	delay, loss := 40*time.Millisecond, 0.02
	if err := l.Apply(Both, Change{Delay: &delay, Loss: &loss}); err != nil {
		t.Fatal(err)
	}
	jitter := 5 * time.Millisecond
	if err := l.Apply(InOnly, Change{Jitter: &jitter}); err != nil {
		t.Fatal(err)
	}
	want := map[Direction]Impairment{
		Out: {Delay: delay, Loss: loss},
		In:  {Delay: delay, Loss: loss, Jitter: jitter},
	}
	for d, w := range want {
		if diff := cmp.Diff(w, l.Impairment(d)); diff != "" {
			t.Errorf("%v (-want +got):\n%s", d, diff)
		}
	}
	bad := 1.5
	if err := l.Apply(Both, Change{Loss: &bad}); err == nil {
		t.Error("Apply took a loss of 150%")
	}
	if err := l.SetImpairment(OutOnly, Impairment{Delay: -time.Second}); err == nil {
		t.Error("SetImpairment took a negative delay")
	}
	if diff := cmp.Diff(want[Out], l.Impairment(Out)); diff != "" {
		t.Errorf("a refused change changed the link (-want +got):\n%s", diff)
	}
	// The impairment returned is a copy.
	ge := &GilbertElliott{P: 0.1, R: 0.5, LossBad: 1}
	l.SetImpairment(OutOnly, Impairment{Burst: ge})
	l.Impairment(Out).Burst.P = 0.9
	ge.P = 0.8
	if got := l.Impairment(Out).Burst.P; got != 0.1 {
		t.Errorf("burst P = %v after callers changed their copies, want 0.1", got)
	}
}

func TestConnDeadlinesAndClose(t *testing.T) {
	l := newTestLink(t, "site-1/wan1", 1)
	c := l.Conn()

	c.SetReadDeadline(time.Now().Add(-time.Second))
	_, _, err := c.ReadFrom(make([]byte, 8))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	c.SetDeadline(time.Now().Add(-time.Second))
	if _, err := c.WriteToUDPAddrPort([]byte("x"), l.Addr()); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past the deadline: %v, want a timeout", err)
	}
	c.SetDeadline(time.Time{})

	// A reader blocked with no deadline is released by Close.
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.ReadFrom(make([]byte, 8))
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the reader block; not needed for correctness
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("blocked read after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock the reader")
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
	if _, err := c.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(l.Addr())); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v, want net.ErrClosed", err)
	}
	if err := c.SetReadDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetReadDeadline after Close: %v, want net.ErrClosed", err)
	}
	if err := l.Apply(Both, Change{Down: new(bool)}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Apply after Close: %v, want net.ErrClosed", err)
	}
}

func TestConnRefusesBadWrites(t *testing.T) {
	l := newTestLink(t, "site-1/wan1", 1)
	c := l.Conn()
	tests := []struct {
		name string
		err  func() error
	}{
		{"not UDP", func() error {
			_, err := c.WriteTo([]byte("x"), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1})
			return err
		}},
		{"nil address", func() error { _, err := c.WriteTo([]byte("x"), nil); return err }},
		{"invalid address", func() error { _, err := c.WriteToUDPAddrPort([]byte("x"), netip.AddrPort{}); return err }},
		{"too long", func() error { _, err := c.WriteToUDPAddrPort(make([]byte, maxDatagram+1), l.Addr()); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); err == nil {
				t.Error("write succeeded")
			}
		})
	}
	if st := l.Stats(); st.Out.Offered != 0 {
		t.Errorf("refused writes reached the emulator: %+v", st.Out)
	}
}

func TestLinkReceiveQueueOverflow(t *testing.T) {
	a := newTestLink(t, "site-1/wan1", 1)
	b, err := NewLink(Config{Name: "site-2/wan1", RecvQueue: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for range 10 {
		a.Conn().WriteToUDPAddrPort([]byte("x"), b.Addr())
	}
	// Wait until all ten are accounted for: delivered to the queue or
	// dropped at it. Loopback does not lose datagrams this few.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := b.Stats().In
		if st.Delivered+st.DroppedOverflow == 10 {
			if st.Delivered != 4 {
				t.Errorf("queued %d, want 4", st.Delivered)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v, want 10 datagrams accounted for", st)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLinkLargeDatagram(t *testing.T) {
	a := newTestLink(t, "site-1/wan1", 1)
	b := newTestLink(t, "site-2/wan1", 2)
	big := make([]byte, 9000) // beyond the pooled buffers
	for i := range big {
		big[i] = byte(i)
	}
	a.Conn().WriteToUDPAddrPort(big, b.Addr())
	b.Conn().SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 10000)
	n, _, err := b.Conn().ReadFrom(buf)
	if err != nil || !cmp.Equal(big, buf[:n]) {
		t.Fatalf("read %d bytes, %v; want the 9000 sent", n, err)
	}
}
