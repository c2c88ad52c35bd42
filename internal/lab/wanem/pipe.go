package wanem

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// maxInFlight bounds the packets one direction holds in its delay line, so
// that a long delay on a fast sender cannot eat the lab's memory. Packets
// beyond it are dropped and counted as overflow.
const maxInFlight = 1 << 16

// ipUDPOverhead is what an IPv4 and a UDP header add to a datagram on the
// wire. The rate stage counts it, as tc counts the IP packet, so that a
// 10mbit link carries what a real 10 Mbit/s IP link would.
const ipUDPOverhead = 28

// DirStats counts what one direction of a link did. Every datagram offered
// to the direction, and every extra copy Duplicated made, is counted once
// as delivered, as dropped for one cause, as a send error, or is still in
// flight.
type DirStats struct {
	Offered         uint64 // datagrams given to the direction
	Delivered       uint64 // datagrams (copies included) that came out
	DeliveredBytes  uint64 // their payload bytes
	DroppedDown     uint64 // dropped because the link was down
	DroppedLoss     uint64 // dropped by random loss
	DroppedBurst    uint64 // dropped by Gilbert-Elliott loss
	DroppedQueue    uint64 // tail-dropped by the rate stage's queue
	DroppedOverflow uint64 // dropped because the delay line or the reader's queue was full
	SendErrors      uint64 // outbound datagrams the public socket refused
	Duplicated      uint64 // extra copies made
	Reordered       uint64 // packets that skipped the delay line

	// ReleaseLateSum and ReleaseLateMax add up and bound how late the
	// emulator released packets against their computed release times:
	// its own timing error, apart from the network and the receiver.
	// The mean is ReleaseLateSum / Delivered.
	ReleaseLateSum time.Duration
	ReleaseLateMax time.Duration
}

// Dropped returns the datagrams dropped for any cause.
func (s DirStats) Dropped() uint64 {
	return s.DroppedDown + s.DroppedLoss + s.DroppedBurst + s.DroppedQueue + s.DroppedOverflow
}

type dirCounters struct {
	offered, delivered, deliveredBytes                                    atomic.Uint64
	droppedDown, droppedLoss, droppedBurst, droppedQueue, droppedOverflow atomic.Uint64
	sendErrors, duplicated, reordered                                     atomic.Uint64
	lateSum, lateMax                                                      atomic.Int64 // ns; written by the release goroutine only
}

func (c *dirCounters) snapshot() DirStats {
	return DirStats{
		Offered:         c.offered.Load(),
		Delivered:       c.delivered.Load(),
		DeliveredBytes:  c.deliveredBytes.Load(),
		DroppedDown:     c.droppedDown.Load(),
		DroppedLoss:     c.droppedLoss.Load(),
		DroppedBurst:    c.droppedBurst.Load(),
		DroppedQueue:    c.droppedQueue.Load(),
		DroppedOverflow: c.droppedOverflow.Load(),
		SendErrors:      c.sendErrors.Load(),
		Duplicated:      c.duplicated.Load(),
		Reordered:       c.reordered.Load(),
		ReleaseLateSum:  time.Duration(c.lateSum.Load()),
		ReleaseLateMax:  time.Duration(c.lateMax.Load()),
	}
}

// pipe is one direction of a link: it decides each packet's fate and
// release time on submit, holds the survivors in a heap and releases them
// from a single goroutine, so that release order is exactly heap order and
// a release costs one timer wake-up.
type pipe struct {
	// deliver takes the packet and reports whether it went out; when it
	// did not, deliver has counted why. It runs on the release goroutine,
	// and on submitters for packets that skip the delay line, so it must
	// be safe for concurrent use.
	deliver func(*packet) bool
	stats   dirCounters

	mu          sync.Mutex
	imp         Impairment
	rng         *rand.Rand
	geBad       bool // Gilbert-Elliott state
	even        map[netip.AddrPort]*evenState
	lastDepart  time.Time // when the rate stage finishes the last packet
	lastRelease time.Time // release time of the last in-order packet
	q           packetHeap
	seq         uint64
	closed      bool

	alarm   *alarm
	armedAt time.Time     // what alarm is armed for; zero when disarmed
	done    chan struct{} // closed when the release goroutine returns
}

// newPipe starts a pipe. precise adds a timerfd to the release alarm (see
// alarm); tests in a synctest bubble, whose clock is fake, go without.
func newPipe(seed1, seed2 uint64, precise bool, deliver func(*packet) bool) *pipe {
	p := &pipe{
		deliver: deliver,
		rng:     rand.New(rand.NewPCG(seed1, seed2)),
		alarm:   newAlarm(precise),
		done:    make(chan struct{}),
	}
	go p.run()
	return p
}

// impairment returns the current impairment.
func (p *pipe) impairment() Impairment {
	p.mu.Lock()
	defer p.mu.Unlock()
	imp := p.imp
	if imp.Burst != nil {
		b := *imp.Burst
		imp.Burst = &b
	}
	return imp
}

// update replaces the impairment with f(current); the caller has validated
// what f returns. Going down loses what is in flight, as on a cut cable.
func (p *pipe) update(f func(Impairment) Impairment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	imp := f(p.imp)
	if imp.Burst != nil {
		b := *imp.Burst // keep our own copy; the caller may reuse theirs
		imp.Burst = &b
	} else {
		p.geBad = false
	}
	if imp.Loss != p.imp.Loss || imp.EvenLoss != p.imp.EvenLoss {
		clear(p.even) // runs counted against the old loss mean nothing now
	}
	p.imp = imp
	if imp.Down && len(p.q) > 0 {
		for _, pk := range p.q {
			pk.free()
		}
		p.stats.droppedDown.Add(uint64(len(p.q)))
		clear(p.q)
		p.q = p.q[:0]
		p.lastDepart, p.lastRelease = time.Time{}, time.Time{}
	}
}

// submit takes ownership of pk and schedules or drops it.
func (p *pipe) submit(pk *packet) {
	p.stats.offered.Add(1)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pk.free()
		p.stats.droppedDown.Add(1)
		return
	}
	imp := &p.imp
	if imp.Down {
		p.drop(pk, &p.stats.droppedDown)
		return
	}
	if imp.Loss > 0 {
		var lost bool
		if imp.EvenLoss {
			lost = p.evenLoss(pk.addr, imp.Loss)
		} else {
			lost = p.rng.Float64() < imp.Loss
		}
		if lost {
			p.drop(pk, &p.stats.droppedLoss)
			return
		}
	}
	if ge := imp.Burst; ge != nil {
		// Step the chain, then draw the loss of the state it is now in.
		if p.geBad {
			p.geBad = p.rng.Float64() >= ge.R
		} else {
			p.geBad = p.rng.Float64() < ge.P
		}
		loss := ge.LossGood
		if p.geBad {
			loss = ge.LossBad
		}
		if loss > 0 && p.rng.Float64() < loss {
			p.drop(pk, &p.stats.droppedBurst)
			return
		}
	}
	var dup *packet
	if imp.Duplicate > 0 && p.rng.Float64() < imp.Duplicate {
		dup = newPacket(pk.buf, pk.addr)
		p.stats.duplicated.Add(1)
	}
	now := time.Now()
	var now1 []*packet // packets due at once
	head, n := p.schedule(pk, now)
	if n != nil {
		now1 = append(now1, n)
	}
	if dup != nil {
		h, n := p.schedule(dup, now)
		head = head || h
		if n != nil {
			now1 = append(now1, n)
		}
	}
	if head {
		// The release goroutine sleeps until the old head; wake it
		// sooner if this packet is due first.
		if at := p.q[0].at; p.armedAt.IsZero() || at.Before(p.armedAt) {
			p.armedAt = at
			p.alarm.arm(at.Sub(now))
		}
	}
	p.mu.Unlock()
	// A packet that skipped the delay line while nothing held it back
	// goes out from here rather than waiting for the release goroutine
	// to wake. It overtakes by design, so it need not be ordered against
	// that goroutine's releases.
	for _, pk := range now1 {
		p.release(pk)
	}
}

// evenState is where one remote address is in its current run of
// EvenLossBlock packets.
type evenState struct {
	left  int     // packets left in the run
	drops int     // of which to drop
	carry float64 // fraction of a drop owed from earlier runs
}

// maxEvenAddrs bounds the addresses EvenLoss tracks per direction; past
// it the tracking starts over, which costs only evenness.
const maxEvenAddrs = 4096

// evenLoss decides the fate of one packet to or from addr under EvenLoss:
// sampling without replacement, each remaining packet of the run dropped
// with probability drops/left. p.mu is held.
func (p *pipe) evenLoss(addr netip.AddrPort, loss float64) bool {
	st := p.even[addr]
	if st == nil {
		if p.even == nil || len(p.even) >= maxEvenAddrs {
			p.even = make(map[netip.AddrPort]*evenState)
		}
		st = &evenState{}
		p.even[addr] = st
	}
	if st.left == 0 {
		want := loss*EvenLossBlock + st.carry
		st.drops = int(want + 1e-9) // 2.3% of 100 is 2.2999999999999998
		st.carry = want - float64(st.drops)
		st.left = EvenLossBlock
	}
	lost := st.drops > 0 && p.rng.IntN(st.left) < st.drops
	if lost {
		st.drops--
	}
	st.left--
	return lost
}

// drop frees pk, counts it under c and unlocks p.mu.
func (p *pipe) drop(pk *packet, c *atomic.Uint64) {
	p.mu.Unlock()
	pk.free()
	c.Add(1)
}

// schedule runs the rate, delay, jitter and reorder stages for pk and puts
// it in the heap, drops it, or returns it as due now (a reordered packet
// with no rate backlog). It reports whether pk became the earliest packet,
// which the release goroutine must hear about. p.mu is held.
func (p *pipe) schedule(pk *packet, now time.Time) (head bool, due *packet) {
	imp := &p.imp
	depart := now
	if imp.RateBps > 0 {
		start := now
		if p.lastDepart.After(now) {
			start = p.lastDepart
		}
		wire := int64(len(pk.buf) + ipUDPOverhead)
		// In floating point: a long backlog times a fast rate overflows.
		backlog := start.Sub(now).Seconds() * float64(imp.RateBps) / 8
		if backlog+float64(wire) > float64(imp.queueBytes()) {
			pk.free()
			p.stats.droppedQueue.Add(1)
			return false, nil
		}
		depart = start.Add(time.Duration(wire * 8 * int64(time.Second) / imp.RateBps))
		p.lastDepart = depart
	}
	if len(p.q) >= maxInFlight {
		pk.free()
		p.stats.droppedOverflow.Add(1)
		return false, nil
	}
	if imp.Reorder > 0 && p.rng.Float64() < imp.Reorder {
		// Skip the delay line and do not move the in-order release
		// time, so this packet overtakes those still delayed.
		pk.at = depart
		p.stats.reordered.Add(1)
		if !depart.After(now) {
			return false, pk
		}
	} else {
		d := imp.Delay
		if imp.Jitter > 0 {
			d += time.Duration(p.rng.NormFloat64() * imp.sigma())
			d = max(d, 0)
		}
		at := depart.Add(d)
		if at.Before(p.lastRelease) {
			at = p.lastRelease // a link does not reorder on its own
		}
		p.lastRelease = at
		pk.at = at
	}
	p.seq++
	pk.seq = p.seq
	p.q.push(pk)
	return p.q[0] == pk, nil
}

// run releases packets when they are due until close.
func (p *pipe) run() {
	defer close(p.done)
	var due []*packet
	for {
		p.mu.Lock()
		if p.closed {
			for _, pk := range p.q {
				pk.free()
			}
			p.q = nil
			p.mu.Unlock()
			return
		}
		now := time.Now()
		for len(p.q) > 0 && !p.q[0].at.After(now) {
			due = append(due, p.q.pop())
		}
		if len(due) == 0 {
			// Arm under the lock, so that a submitter's earlier
			// arming cannot be overwritten by a later one.
			if len(p.q) > 0 {
				p.armedAt = p.q[0].at
				p.alarm.arm(p.armedAt.Sub(now))
			} else {
				p.armedAt = time.Time{}
				p.alarm.disarm()
			}
		}
		p.mu.Unlock()

		if len(due) == 0 {
			p.alarm.wait()
			continue
		}
		var late int64
		for _, pk := range due {
			late += int64(now.Sub(pk.at))
		}
		p.stats.lateSum.Add(late)
		if worst := int64(now.Sub(due[0].at)); worst > p.stats.lateMax.Load() {
			p.stats.lateMax.Store(worst) // the first due is the latest
		}
		for i, pk := range due {
			p.release(pk)
			due[i] = nil
		}
		due = due[:0]
		// Delivering took time: look at the heap again before sleeping.
	}
}

// release hands pk on. It counts first, so that whoever receives the
// packet sees it counted, and takes the count back if it did not go.
func (p *pipe) release(pk *packet) {
	n := uint64(len(pk.buf))
	p.stats.delivered.Add(1)
	p.stats.deliveredBytes.Add(n)
	if !p.deliver(pk) {
		p.stats.delivered.Add(^uint64(0))
		p.stats.deliveredBytes.Add(-n)
	}
}

// close stops the release goroutine, dropping what is in flight, and waits
// for it.
func (p *pipe) close() {
	p.mu.Lock()
	p.closed = true
	p.alarm.arm(0)
	p.mu.Unlock()
	<-p.done
	p.alarm.close()
}
