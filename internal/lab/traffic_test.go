package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/lab/wanem"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// trafficLab starts a two-site, two-link lab with the data plane, a little
// delay on every link (so paths are not pure loopback) and every path Up.
func trafficLab(t *testing.T, seed uint64) *Lab {
	t.Helper()
	l := startLab(t, Config{Sites: 2, Links: 2, Seed: seed, HoldDown: time.Second})
	for _, n := range l.LinkNames() {
		if err := l.Link(n).Apply(wanem.Both, wanem.Change{Delay: ptr(2 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	allUp(t, l, 20*time.Second)
	return l
}

// udpPolicy makes a policy for UDP to port, steered to a named link.
func udpPolicy(t *testing.T, l *Lab, name string, prio int, port uint16, link string) sdwan.Policy {
	t.Helper()
	pol := sdwan.Policy{Name: name, Priority: prio, Enabled: true,
		Match:  sdwan.Match{Protocol: sdwan.ProtoUDP, DstPorts: []sdwan.PortRange{{Lo: port, Hi: port}}},
		Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferLink, Link: link}}
	if err := l.Controller.Service.CreatePolicy(context.Background(), auth.System, &pol); err != nil {
		t.Fatal(err)
	}
	return pol
}

// linkTx returns the inner bytes site's engine handed to the paths of each
// of its links.
func linkTx(l *Lab, site string) map[string]uint64 {
	m := map[string]uint64{}
	eng := l.Agent(site).Engine()
	if eng == nil {
		return m
	}
	for _, p := range eng.Stats().Paths {
		m[p.Link] += p.TxBytes
	}
	return m
}

// waitSteered waits until site's traffic flows on link and not on the
// others, and returns how long that took.
func waitSteered(t *testing.T, l *Lab, site, link string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	prev := linkTx(l, site)
	quiet := 0 // consecutive 100 ms windows with traffic only on link
	for time.Since(start) < within+5*time.Second {
		time.Sleep(100 * time.Millisecond)
		cur := linkTx(l, site)
		onLink, elsewhere := cur[link] > prev[link], false
		for k, v := range cur {
			if k != link && v > prev[k] {
				elsewhere = true
			}
		}
		prev = cur
		if onLink && !elsewhere {
			quiet++
			if quiet == 3 {
				// The first of the three windows is when it moved.
				return time.Since(start) - 300*time.Millisecond
			}
		} else {
			quiet = 0
		}
	}
	t.Fatalf("%s's traffic did not move to %s within %v", site, link, within+5*time.Second)
	return 0
}

// TestFailoverGap cuts the link a 50 packets/s UDP stream is pinned to
// and measures the traffic lost before the data plane moves the stream to
// the other link: the target is under interval × multiplier + one
// interval = 400 ms at the defaults (100 ms, 3). It also checks that the
// stream sees no reordering while the paths are stable and that each
// failover is recorded at the controller as a path event with its reason.
func TestFailoverGap(t *testing.T) {
	timingScenario(t)
	const target = 400 * time.Millisecond
	cycles := 3
	if *long {
		cycles = 20
	}
	l := trafficLab(t, 21)
	udpPolicy(t, l, "voice", 10, 6001, "wan1")
	s, err := l.StartUDP("site-1", "site-2", 6001, 50, 160)
	if err != nil {
		t.Fatal(err)
	}
	waitSteered(t, l, "site-1", "wan1", 2*time.Second)
	time.Sleep(2 * time.Second)
	stable := s.Stop(200 * time.Millisecond)
	t.Logf("stable, on wan1: %v", stable)
	if stable.Reordered != 0 || stable.Lost != 0 || stable.Duplicates != 0 {
		t.Errorf("stable paths: %d reordered, %d lost, %d duplicated; want none", stable.Reordered, stable.Lost, stable.Duplicates)
	}

	cut := l.Link("site-1/wan1")
	// The stream leaves on site-1/wan1 for whichever of site-2's links
	// scores best, so a failover is recorded on either of its paths.
	cutPaths := []string{l.PathID("site-1/wan1", "site-2/wan1"), l.PathID("site-1/wan1", "site-2/wan2")}
	var gaps, lost []time.Duration
	for c := range cycles {
		s, err := l.StartUDP("site-1", "site-2", 6001, 50, 160)
		if err != nil {
			t.Fatal(err)
		}
		waitSteered(t, l, "site-1", "wan1", 10*time.Second) // failed back after the previous cycle's hold-down
		time.Sleep(300 * time.Millisecond)
		at := time.Now()
		cut.SetDown(true)
		waitSteered(t, l, "site-1", "wan2", 5*time.Second)
		after := s.Sent()
		waitFor(t, 5*time.Second, "the stream to resume", func() bool { return s.ReceivedSince(after) >= 10 })
		r := s.Stop(200 * time.Millisecond)
		cut.SetDown(false)
		t.Logf("cycle %d: cut at %s: %v", c+1, at.Format("15:04:05.000"), r)
		gaps = append(gaps, r.LongestGap)
		lost = append(lost, r.LostTime())
		if r.LostTime() >= target {
			t.Errorf("cycle %d: lost %v of traffic (%d datagrams) in the failover; the target is under %v", c+1, r.LostTime(), r.Lost, target)
		}
		if r.Duplicates != 0 {
			t.Errorf("cycle %d: %d duplicated datagrams", c+1, r.Duplicates)
		}
		allUp(t, l, 20*time.Second)
	}
	t.Logf("failover gap over %d cuts (50 packets/s, probes every 100 ms × 3): traffic lost %s; longest gap %s", cycles, spread(lost), spread(gaps))

	// Every failover reached the controller as a path event.
	waitFor(t, 5*time.Second, "the failovers recorded at the controller", func() bool {
		n := 0
		for _, id := range cutPaths {
			evs, err := l.Controller.Store.Read().PathEvents(context.Background(), id, time.Time{}, time.Now().Add(time.Hour), 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if e.Kind == "failover" {
					n++
				}
			}
		}
		return n >= cycles
	})
}

// TestPolicyMovesTraffic changes a policy through the service while a
// stream runs under it and measures how long its traffic takes to move:
// edited to another link, then deleted (the stream falls back to the
// default route and to policy 0's counters). The target is within
// a second.
func TestPolicyMovesTraffic(t *testing.T) {
	timingScenario(t)
	ctx := context.Background()
	l := trafficLab(t, 22)
	pol := udpPolicy(t, l, "stream", 10, 6002, "wan1")
	s, err := l.StartUDP("site-1", "site-2", 6002, 50, 160)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(0)
	waitSteered(t, l, "site-1", "wan1", 5*time.Second)

	start := time.Now()
	if _, err := l.Controller.Service.UpdatePolicy(ctx, auth.System, pol.ID, func(p *sdwan.Policy) error {
		p.Action.Link = "wan2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	moved := waitSteered(t, l, "site-1", "wan2", time.Second)
	t.Logf("policy edited to wan2: traffic moved within %v", moved.Round(10*time.Millisecond))
	if moved > time.Second {
		t.Errorf("an edited policy took %v to move its traffic; want within 1 s", moved)
	}
	_ = start

	coll := l.Agent("site-1").Traffic()
	unmatched := func() uint64 { ps, _ := coll.PolicyStats(0); return ps.PacketsMatched }
	before := unmatched()
	if _, err := l.Controller.Service.DeletePolicy(ctx, auth.System, pol.ID); err != nil {
		t.Fatal(err)
	}
	del := time.Now()
	waitFor(t, 5*time.Second, "the stream counted as unmatched traffic", func() bool { return unmatched() > before+5 })
	took := time.Since(del)
	t.Logf("policy deleted: the stream counted as unmatched within %v", took.Round(10*time.Millisecond))
	if took > time.Second+100*time.Millisecond { // five datagrams at 50/s is 100 ms of the wait
		t.Errorf("a deleted policy took %v to stop matching; want within 1 s", took)
	}
	r := s.Stop(200 * time.Millisecond)
	t.Logf("stream through the changes: %v", r)
}

// TestAccounting sends a known UDP stream and a TCP transfer, each under
// its own policy, and compares what the controller's API reports for
// each policy with what the generators sent. UDP must match exactly:
// every datagram is an IPv4 packet of payload + 8 + 20 bytes. TCP adds
// its headers (20 + 20 + 12 bytes of timestamp option per segment at
// netstack's MSS of 1368) and the handshake and teardown: a few percent.
func TestAccounting(t *testing.T) {
	ctx := context.Background()
	l := startLab(t, Config{Sites: 2, Links: 2, Seed: 23})
	allUp(t, l, 20*time.Second)
	udp := udpPolicy(t, l, "acct-udp", 10, 6003, "wan1")
	tcp := sdwan.Policy{Name: "acct-tcp", Priority: 11, Enabled: true,
		Match:  sdwan.Match{Protocol: sdwan.ProtoTCP, DstPorts: []sdwan.PortRange{{Lo: 5003, Hi: 5003}}},
		Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferQuality}}
	if err := l.Controller.Service.CreatePolicy(ctx, auth.System, &tcp); err != nil {
		t.Fatal(err)
	}
	// The policies must be at the edge before the first packet.
	want := l.Hub
	waitFor(t, 5*time.Second, "the policies at site-1's edge", func() bool {
		cfg, err := want.SiteConfig(ctx, l.siteID(t, "site-1"))
		return err == nil && l.Agent("site-1").Version() == cfg.Version
	})

	s, err := l.StartUDP("site-1", "site-2", 6003, 50, 160)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	ur := s.Stop(200 * time.Millisecond)
	const payload = 4 << 20
	tr, err := l.TCPBulk(ctx, "site-1", "site-2", 5003, 20*time.Second, payload)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Bytes != payload {
		t.Fatalf("TCP delivered %d bytes, want %d", tr.Bytes, payload)
	}

	// Until the API shows at least the payload and its headers, the
	// edge's last report may still be on its way (waiting only for the
	// payload read a partial count once, under the race detector); a
	// count that never gets there is reported below with its figures.
	least := uint64(payload + (payload+1367)/1368*40)
	var got map[int64][2]uint64
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got = graphQLPolicyTotals(t, l); got[udp.ID][0] == uint64(ur.Sent) && got[tcp.ID][1] >= least {
			break
		}
	}
	u, c := got[udp.ID], got[tcp.ID]
	t.Logf("UDP: sent %d datagrams of %d bytes = %d inner bytes; the API counts %d packets, %d bytes", ur.Sent, ur.Payload, ur.InnerBytes(), u[0], u[1])
	if u[0] != uint64(ur.Sent) || u[1] != ur.InnerBytes() {
		t.Errorf("UDP policy: API counts %d packets, %d bytes; the generator sent %d, %d", u[0], u[1], ur.Sent, ur.InnerBytes())
	}
	overhead := float64(c[1]-payload) / payload * 100
	t.Logf("TCP: sent %d payload bytes (%v); the API counts %d packets, %d bytes: %.2f%% headers and control", payload, tr, c[0], c[1], overhead)
	// At least an IPv4 and a TCP header (40 bytes) per full segment; at
	// most 30% more: retransmitted segments are real packets and count
	// too, and a burst into the tunnels' queues makes TCP retransmit. This
	// test logs the figure ("headers and control"; `make test-lab`): 4-11%
	// on an idle machine, 14.8-16% with other tests running beside it.
	// Counting a packet twice anywhere would add 100%. (The race
	// detector's pauses make TCP retransmit more, so only the lower bound
	// holds there.)
	if c[1] < least || (overhead > 30 && !raceEnabled) {
		t.Errorf("TCP policy: %d bytes counted for %d of payload (%.2f%% over); want at least %d (headers) and at most 30%% over", c[1], payload, overhead, least)
	}
}

// siteID returns a site's ID.
func (l *Lab) siteID(t *testing.T, name string) string {
	t.Helper()
	s, err := l.Controller.Store.Read().SiteByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// graphQLPolicyTotals reads every policy's packets_matched and
// bytes_matched through the GraphQL API, with the seed's field names.
func graphQLPolicyTotals(t *testing.T, l *Lab) map[int64][2]uint64 {
	t.Helper()
	c := &Client{Base: l.URL(), Token: l.Admin.APIKey}
	var res struct {
		Data struct {
			Policies []struct {
				ID             string `json:"id"`
				PacketsMatched uint64 `json:"packets_matched"`
				BytesMatched   uint64 `json:"bytes_matched"`
			} `json:"policies"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if _, err := c.do(context.Background(), "POST", "/graphql", map[string]string{"query": "{ policies { id packets_matched bytes_matched } }"}, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("graphql: %s", res.Errors[0])
	}
	out := map[int64][2]uint64{}
	for _, p := range res.Data.Policies {
		id, err := strconv.ParseInt(p.ID, 10, 64)
		if err != nil {
			t.Fatal(fmt.Errorf("policy id %q: %w", p.ID, err))
		}
		out[id] = [2]uint64{p.PacketsMatched, p.BytesMatched}
	}
	return out
}
