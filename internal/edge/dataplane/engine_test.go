package dataplane

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/tun/netstack"

	"github.com/patronus-sdwan/patronus/internal/lab/wanem"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// site is one lab site: a netstack host behind an engine with two links.
type site struct {
	name   string
	prefix netip.Prefix
	host   netip.Addr
	key    Key
	net    *netstack.Net
	eng    *Engine
	links  map[string]*wanem.Link
	stats  *stats.Collector
	events chan Event
	cfg    Config
}

// pair is two sites, each with links wan1 and wan2, and a path over each
// link pair: site a's path "a-wanN" goes from a/wanN to b/wanN.
type pair struct{ a, b *site }

func newSite(t testing.TB, name string, n byte) *site {
	t.Helper()
	s := &site{
		name:   name,
		prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, n, 0, 0}), 24),
		host:   netip.AddrFrom4([4]byte{10, n, 0, 1}),
		links:  map[string]*wanem.Link{},
		events: make(chan Event, 64),
	}
	var err error
	if s.key, err = GeneratePrivateKey(); err != nil {
		t.Fatal(err)
	}
	dev, tnet, err := netstack.CreateNetTUN([]netip.Addr{s.host}, nil, 1420)
	if err != nil {
		t.Fatal(err)
	}
	s.net = tnet
	if s.stats, err = stats.New(stats.Config{Capacity: 1 << 12, Logger: discard()}); err != nil {
		t.Fatal(err)
	}
	s.eng, err = New(dev, Options{Logger: discard(), Stats: s.stats, OnEvent: func(e Event) { s.events <- e }})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"wan1", "wan2"} {
		wl, err := wanem.NewLink(wanem.Config{Name: name + "/" + l})
		if err != nil {
			t.Fatal(err)
		}
		s.links[l] = wl
	}
	return s
}

// config returns s's configuration towards peer with the given policies.
func (s *site) config(peer *site, policies ...sdwan.Policy) Config {
	cfg := Config{
		PrivateKey: s.key,
		Prefixes:   []netip.Prefix{s.prefix},
		Peers:      []Peer{{ID: peer.name, PublicKey: peer.key.PublicKey(), Prefixes: []netip.Prefix{peer.prefix}}},
		Policies:   policies,
		HoldDown:   time.Second,
	}
	for i, l := range []string{"wan1", "wan2"} {
		cfg.Links = append(cfg.Links, Link{Name: l, Conn: s.links[l].Conn(), CostPerGB: float64(2 - i)})
		cfg.Paths = append(cfg.Paths, Path{ID: s.name + "-" + l, Link: l, Peer: peer.name, Remote: peer.links[l].Addr()})
	}
	return cfg
}

func (s *site) set(t testing.TB, cfg Config) {
	t.Helper()
	s.cfg = cfg
	if err := s.eng.Set(cfg); err != nil {
		t.Fatal(err)
	}
}

func newPair(t testing.TB, policies ...sdwan.Policy) *pair {
	t.Helper()
	checkLeaks(t)
	p := &pair{a: newSite(t, "a", 1), b: newSite(t, "b", 2)}
	p.a.set(t, p.a.config(p.b, policies...))
	p.b.set(t, p.b.config(p.a, policies...))
	t.Cleanup(func() {
		for _, s := range []*site{p.a, p.b} {
			s.eng.Close()
			for _, l := range s.links {
				l.Close()
			}
		}
	})
	return p
}

// pathTx returns the inner bytes a site sent on each of its paths.
func (s *site) pathTx() map[string]uint64 {
	m := map[string]uint64{}
	for _, ps := range s.eng.Stats().Paths {
		m[ps.ID] = ps.TxBytes
	}
	return m
}

// tcpTransfer sends n random bytes from a to b over TCP and checks they
// arrive intact.
func tcpTransfer(t testing.TB, p *pair, port uint16, n int) {
	t.Helper()
	ln, err := p.b.net.ListenTCPAddrPort(netip.AddrPortFrom(p.b.host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	want := make([]byte, n)
	rand.Read(want)
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := p.a.net.DialContextTCPAddrPort(ctx, netip.AddrPortFrom(p.b.host, port))
	if err != nil {
		t.Fatalf("dial through the overlay: %v", err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(want); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case b := <-got:
		if !bytes.Equal(b, want) {
			t.Fatalf("received %d bytes, want the %d sent", len(b), n)
		}
	case <-ctx.Done():
		t.Fatal("transfer timed out")
	}
}

// udpStream sends datagrams from a to b's port every interval until stop
// is closed, and returns the receiver's sequence numbers on done.
type udpStream struct {
	sent     int
	payload  int
	received []uint32
	mu       sync.Mutex
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

func startUDP(t testing.TB, p *pair, srcPort, dstPort uint16, interval time.Duration, payload int) *udpStream {
	t.Helper()
	rc, err := p.b.net.ListenUDPAddrPort(netip.AddrPortFrom(p.b.host, dstPort))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := p.a.net.DialUDPAddrPort(netip.AddrPortFrom(p.a.host, srcPort), netip.AddrPortFrom(p.b.host, dstPort))
	if err != nil {
		t.Fatal(err)
	}
	s := &udpStream{payload: payload, stop: make(chan struct{}), done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, err := rc.Read(buf)
			if err != nil {
				return
			}
			if n >= 4 {
				s.mu.Lock()
				s.received = append(s.received, uint32(buf[0])<<24|uint32(buf[1])<<16|uint32(buf[2])<<8|uint32(buf[3]))
				s.mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		tk := time.NewTicker(interval)
		defer tk.Stop()
		msg := make([]byte, payload)
		for seq := uint32(0); ; seq++ {
			select {
			case <-s.stop:
				return
			case <-tk.C:
			}
			msg[0], msg[1], msg[2], msg[3] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
			if _, err := sc.Write(msg); err == nil {
				s.mu.Lock()
				s.sent++
				s.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { s.finish() })
	go func() {
		<-s.stop
		time.Sleep(200 * time.Millisecond) // let the last datagrams land
		rc.Close()
		sc.Close()
		wg.Wait()
		close(s.done)
	}()
	return s
}

func (s *udpStream) finish() (sent int, received []uint32) {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent, slices.Clone(s.received)
}

func (s *udpStream) sentSoFar() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// receivedFrom counts the datagrams received with sequence numbers from
// seq on.
func (s *udpStream) receivedFrom(seq uint32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.received {
		if r >= seq {
			n++
		}
	}
	return n
}

func (s *udpStream) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.received)
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var voice = sdwan.Policy{ID: 42, Name: "voice", Priority: 10, Enabled: true,
	Match:  sdwan.Match{Protocol: sdwan.ProtoUDP, DstPorts: []sdwan.PortRange{{Lo: 5000, Hi: 5099}}},
	Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferLink, Link: "wan2"}}

func TestTCPAndUDPThroughTheOverlay(t *testing.T) {
	p := newPair(t)
	tcpTransfer(t, p, 80, 1<<20)
	s := startUDP(t, p, 7000, 7001, time.Millisecond, 200)
	waitFor(t, 10*time.Second, "UDP datagrams", func() bool { return s.count() >= 50 })
	s.finish()
	// Unmatched traffic takes the best-quality path; with no metrics the
	// tie goes to the first path, so wan2 carried nothing.
	tx := p.a.pathTx()
	if tx["a-wan1"] < 1<<20 || tx["a-wan2"] != 0 {
		t.Errorf("path bytes %v: want all of it on a-wan1", tx)
	}
}

// TestSteeringPerPolicy checks that a policy's traffic takes its path while
// the rest takes the default one, with the bytes counted per path.
func TestSteeringPerPolicy(t *testing.T) {
	p := newPair(t, voice)
	before := p.a.pathTx()
	s := startUDP(t, p, 5000, 5001, time.Millisecond, 100)
	waitFor(t, 10*time.Second, "voice datagrams", func() bool { return s.count() >= 100 })
	sent, _ := s.finish()
	after := p.a.pathTx()
	if got, want := after["a-wan2"]-before["a-wan2"], uint64(sent*128); got != want {
		t.Errorf("voice bytes on a-wan2 = %d, want %d (%d datagrams of 128 bytes)", got, want, sent)
	}
	if d := after["a-wan1"] - before["a-wan1"]; d != 0 {
		t.Errorf("a-wan1 carried %d bytes of voice", d)
	}
	// The rest takes the default, best-quality path: wan1 on a tie.
	tcpTransfer(t, p, 80, 256<<10)
	final := p.a.pathTx()
	if d := final["a-wan1"] - after["a-wan1"]; d < 256<<10 {
		t.Errorf("a-wan1 carried %d bytes of a 256 KiB TCP transfer", d)
	}
	if d := final["a-wan2"] - after["a-wan2"]; d != 0 {
		t.Errorf("a-wan2 carried %d bytes of unmatched TCP", d)
	}
}

// TestPolicyChangeMovesFlow edits a running flow's policy and checks that
// the flow moves to the new policy's path without a restart.
func TestPolicyChangeMovesFlow(t *testing.T) {
	p := newPair(t, voice)
	s := startUDP(t, p, 5000, 5001, 2*time.Millisecond, 100)
	defer s.finish()
	waitFor(t, 10*time.Second, "voice on wan2", func() bool { return p.a.pathTx()["a-wan2"] > 0 })
	edited := voice
	edited.Action.Link = "wan1"
	p.a.set(t, p.a.config(p.b, edited))
	mid := p.a.pathTx()
	waitFor(t, 10*time.Second, "voice on wan1", func() bool { return p.a.pathTx()["a-wan1"] > mid["a-wan1"]+10*128 })
	time.Sleep(50 * time.Millisecond)
	if later := p.a.pathTx(); later["a-wan2"] > mid["a-wan2"]+128 {
		t.Errorf("wan2 kept carrying the flow after the edit: %d -> %d bytes", mid["a-wan2"], later["a-wan2"])
	}
	// Disabling the policy sends the flow back to the default path; with
	// equal paths that is wan1 as well, so disable and check the counter
	// moved to policy 0.
	disabled := edited
	disabled.Enabled = false
	p.a.set(t, p.a.config(p.b, disabled))
	waitFor(t, 10*time.Second, "unmatched traffic counted", func() bool {
		st, ok := p.a.stats.PolicyStats(0)
		return ok && st.PacketsMatched > 10
	})
}

// TestAccounting checks that the bytes counted against a policy are the
// bytes of the IP packets the generator's datagrams made.
func TestAccounting(t *testing.T) {
	p := newPair(t, voice)
	const payload = 172 // an RTP voice packet: 160 bytes of G.711 + 12 of RTP
	s := startUDP(t, p, 5000, 5002, time.Millisecond, payload)
	waitFor(t, 10*time.Second, "voice datagrams", func() bool { return s.count() >= 200 })
	sent, received := s.finish()
	st, ok := p.a.stats.PolicyStats(voice.ID)
	if !ok {
		t.Fatal("no statistics for the voice policy")
	}
	// Each datagram is one IPv4 packet: 20 bytes of IP header, 8 of UDP.
	if want := uint64(sent * (payload + 28)); st.BytesMatched != want || st.PacketsMatched != uint64(sent) {
		t.Errorf("voice policy counted %d packets, %d bytes; generator sent %d datagrams = %d bytes of IP packets",
			st.PacketsMatched, st.BytesMatched, sent, want)
	}
	if st.ActiveFlows != 1 {
		t.Errorf("voice policy has %d flows, want 1", st.ActiveFlows)
	}
	if len(received) != sent {
		t.Errorf("received %d of %d datagrams on a healthy link", len(received), sent)
	}
}

var _ = net.ErrClosed

// TestPathsRemovedWhileIdle removes every path of a site whose devices
// are waiting for the site's next packet (one of them blocked reading the
// site device for all of them), then puts them back. The removal must not
// wait for traffic, the site's packets must still be read and counted
// while there is no path, and traffic must flow again afterwards.
func TestPathsRemovedWhileIdle(t *testing.T) {
	p := newPair(t)
	tcpTransfer(t, p, 80, 64<<10)
	time.Sleep(50 * time.Millisecond) // let the readers go back to waiting

	noPaths := p.a.cfg
	noPaths.Paths = nil
	done := make(chan error, 1)
	go func() { done <- p.a.eng.Set(noPaths) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Set waited for traffic to close a removed path's device")
	}

	before := p.a.eng.Stats().NoPath
	s := startUDP(t, p, 7000, 7001, time.Millisecond, 100)
	waitFor(t, 10*time.Second, "datagrams counted without a path", func() bool {
		return p.a.eng.Stats().NoPath-before >= 20
	})
	if n := s.count(); n != 0 {
		t.Errorf("%d datagrams crossed with no path", n)
	}

	p.a.set(t, p.a.config(p.b))
	waitFor(t, 10*time.Second, "datagrams after the paths came back", func() bool { return s.count() >= 20 })
	s.finish()
}
