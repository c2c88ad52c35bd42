package dataplane

import (
	"hash/fnv"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// session numbers a directed path for the probe protocol.
func session(pathID string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(pathID))
	return h.Sum32()
}

// monitor wires the path monitor into a pair the way the edge agent does:
// one probe.Mux per link over the engine's probe side of that link's
// socket, a Prober per path feeding the engine, and a responder for the
// peer's sessions.
func monitor(t testing.TB, p *pair) []*probe.Prober {
	var probers []*probe.Prober
	t.Helper()
	secret := []byte("a secret the two sites share....")
	for _, s := range []*site{p.a, p.b} {
		peer := p.b
		if s == p.b {
			peer = p.a
		}
		for _, l := range []string{"wan1", "wan2"} {
			pc, err := s.eng.ProbeConn(l)
			if err != nil {
				t.Fatal(err)
			}
			mux := probe.NewMux(pc, discard(), time.Now)
			t.Cleanup(func() { mux.Close() })
			mine, theirs := s.name+"-"+l, peer.name+"-"+l
			key, _ := probe.DeriveKey(secret, session(mine))
			peerKey, _ := probe.DeriveKey(secret, session(theirs))
			if err := mux.Respond(session(theirs), peerKey); err != nil {
				t.Fatal(err)
			}
			eng := s.eng
			pr, err := mux.SetPath(probe.PathConfig{
				ID: session(mine), Key: key, Remote: peer.links[l].Addr(),
				OnTransition: func(_ probe.Transition, m probe.Metrics) { eng.UpdatePath(FromProbe(mine, m)) },
			})
			if err != nil {
				t.Fatal(err)
			}
			probers = append(probers, pr)
		}
	}
	return probers
}

// failoverRun is what one cut of a link did to a 50 packets/s stream.
type failoverRun struct {
	sent, received int
	lost           int // datagrams sent and never received
	reordered      int // datagrams received after a later one
	event          Event
	gap            time.Duration // lost datagrams times the stream's interval
	detect         time.Duration // from the cut to the failover event
}

// runFailover streams 50 datagrams a second from a to b over wan1, cuts
// wan1 (both sites' ends), lets the probes notice, and counts the loss.
func runFailover(t testing.TB) failoverRun {
	const interval = 20 * time.Millisecond
	// The stream is pinned to wan1 by its policy, so the cut is sure to
	// hit it whatever the probes measure of the two links.
	stream := sdwan.Policy{ID: 9, Priority: 1, Enabled: true,
		Match:  sdwan.Match{Protocol: sdwan.ProtoUDP, DstPorts: []sdwan.PortRange{{Lo: 6001, Hi: 6001}}},
		Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferLink, Link: "wan1"}}
	p := newPair(t, stream)
	probers := monitor(t, p)
	// Every path Up by the monitor's own measure before the test starts.
	waitUp := func() bool {
		for _, pr := range probers {
			if st, _ := pr.State(); st != probe.StateUp {
				return false
			}
		}
		return true
	}
	waitFor(t, 10*time.Second, "paths up", waitUp)
	s := startUDP(t, p, 6000, 6001, interval, 160)
	time.Sleep(600 * time.Millisecond)
	drain(p.a.events)
	p.a.links["wan1"].SetDown(true)
	p.b.links["wan1"].SetDown(true)
	cut := time.Now()
	var run failoverRun
	select {
	case run.event = <-p.a.events:
		run.detect = time.Since(cut)
	case <-time.After(10 * time.Second):
		t.Fatal("no failover event within 10 s of the cut")
	}
	// The stream must resume: wait for 25 datagrams sent after the event
	// (half a second of them) to arrive, however loaded the machine.
	after := s.sentSoFar()
	waitFor(t, 10*time.Second, "the stream to resume on wan2", func() bool { return s.receivedFrom(uint32(after)) >= 25 })
	sent, received := s.finish()
	run.sent, run.received = sent, len(received)
	last := -1
	seen := map[uint32]bool{}
	for _, seq := range received {
		if int(seq) < last {
			run.reordered++
		}
		last = max(last, int(seq))
		seen[seq] = true
	}
	run.lost = sent - len(seen)
	run.gap = time.Duration(run.lost) * interval
	return run
}

func drain(c chan Event) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// TestFailoverWithProbes cuts a link under a constant stream and checks that
// the path monitor's verdict moves the stream to the other link: the stream
// resumes, in order, and the event names the reason. How long the gap is
// is a figure (BenchmarkFailoverGap), not asserted here.
func TestFailoverWithProbes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real probes for a few seconds")
	}
	run := runFailover(t)
	if run.event.Kind != EventFailover || run.event.From != "a-wan1" || run.event.To != "a-wan2" || run.event.Reason != "path a-wan1 is down" {
		t.Errorf("event %+v, want a failover from a-wan1 to a-wan2 because it is down", run.event)
	}
	if run.reordered != 0 {
		t.Errorf("%d datagrams arrived out of order", run.reordered)
	}
	if run.received+run.lost != run.sent {
		t.Errorf("sent %d, received %d, lost %d: duplicates?", run.sent, run.received, run.lost)
	}
	t.Logf("failover lost %d datagrams of %d (%v of traffic); the monitor took %v", run.lost, run.sent, run.gap, run.detect)
}

// BenchmarkFailoverGap reports the traffic a 50 packets/s stream loses when
// its link is cut, at the path monitor's defaults (interval 100 ms,
// multiplier 3, confirmation probes). Each iteration is one cut, about
// 2-3 s of wall time.
func BenchmarkFailoverGap(b *testing.B) {
	b.ReportAllocs()
	var total, worst, detect time.Duration
	n := 0
	for b.Loop() {
		run := runFailover(b)
		if run.reordered != 0 {
			b.Fatalf("%d datagrams reordered", run.reordered)
		}
		total += run.gap
		detect += run.detect
		worst = max(worst, run.gap)
		n++
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(n), "gap-ms/cut")
	b.ReportMetric(float64(worst.Milliseconds()), "worst-gap-ms")
	b.ReportMetric(float64(detect.Milliseconds())/float64(n), "detect-ms/cut")
}
