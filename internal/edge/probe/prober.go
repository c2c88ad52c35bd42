package probe

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// PathConfig describes one path to probe.
type PathConfig struct {
	// ID is the session id of the directed path (this link to that peer
	// endpoint). The peer's responder serves the same id with the same key.
	ID uint32
	// Key authenticates the session's packets (see DeriveKey).
	Key []byte
	// Remote is the peer endpoint's probe address.
	Remote netip.AddrPort
	// Config tunes probing; zero fields take their defaults.
	Config Config
	// OnTransition, if set, is called with every state change and the
	// metrics at that moment, in order, from the Prober's own goroutine: it
	// may be slow without delaying other paths, but it delays this path's
	// probes, and it must not call Mux.RemovePath for this path.
	OnTransition func(Transition, Metrics)
}

// Prober probes one path: it sends probes on schedule, matches replies,
// applies deadlines, and keeps the path's estimates and state. Create one
// with Mux.SetPath; its methods are safe for concurrent use.
type Prober struct {
	mux *Mux
	id  uint32

	mu       sync.Mutex
	auth     *Authenticator
	remote   netip.AddrPort
	onChange func(Transition, Metrics)
	t        *tracker

	timer   *time.Timer // guarded by mu: whoever changes the schedule resets it
	kick    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	stopped sync.Once
}

func newProber(m *Mux, pc PathConfig, auth *Authenticator) *Prober {
	var seed [32]byte
	crand.Read(seed[:])
	rng := rand.NewChaCha8(seed)
	now := m.now()
	return &Prober{
		mux:      m,
		id:       pc.ID,
		auth:     auth,
		remote:   pc.Remote,
		onChange: pc.OnTransition,
		t:        newTracker(pc.Config, now, m.epoch, rng.Uint64),
		kick:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// ID returns the path's session id.
func (p *Prober) ID() uint32 { return p.id }

func (p *Prober) update(pc PathConfig, auth *Authenticator) {
	p.mu.Lock()
	p.auth = auth
	p.remote = pc.Remote
	p.onChange = pc.OnTransition
	p.t.setConfig(pc.Config, p.mux.now())
	p.mu.Unlock()
	p.wake()
}

func (p *Prober) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *Prober) stop() {
	p.stopped.Do(func() { close(p.quit) })
	<-p.done
}

// Metrics returns a snapshot of the path's estimates and state.
func (p *Prober) Metrics() Metrics {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.t.metrics()
}

// State returns the path's state and when it was entered.
func (p *Prober) State() (State, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.t.mach.State()
}

func (p *Prober) run() {
	defer p.mux.wg.Done()
	defer close(p.done)
	p.mu.Lock()
	p.timer = time.NewTimer(time.Hour)
	timer := p.timer
	p.mu.Unlock()
	defer timer.Stop()
	var (
		buf         [PacketLen]byte
		pkt         Packet
		transitions []Transition
	)
	for {
		p.mu.Lock()
		now := p.mux.now()
		out, wake := p.t.poll(now)
		for _, o := range out {
			pkt = Packet{Type: TypeRequest, Session: p.id, Seq: o.seq, Nonce: o.nonce, TxTime: p.mux.stamp(o.sent)}
			p.mux.write(p.auth.Seal(buf[:], &pkt), p.remote)
		}
		p.mux.stat.sent.Add(uint64(len(out)))
		transitions = append(transitions[:0], p.t.transitions...)
		p.t.transitions = p.t.transitions[:0]
		onChange := p.onChange
		var m Metrics
		if len(transitions) > 0 {
			m = p.t.metrics()
		}
		timer.Reset(wake.Sub(now))
		p.mu.Unlock()

		for _, tr := range transitions {
			m.State = tr.To // the snapshot is after the last; show each its own state
			p.mux.log.Info("probe: path state", "path", p.id, "from", tr.From, "to", tr.To, "reason", tr.Reason)
			if onChange != nil {
				onChange(tr, m)
			}
		}

		select {
		case <-timer.C:
		case <-p.kick:
		case <-p.quit:
			return
		}
	}
}

// handleReply authenticates a reply for this path and matches it; it runs
// on the Mux's read loop.
func (p *Prober) handleReply(b []byte, rx time.Time) {
	var pkt Packet
	p.mu.Lock()
	if err := p.auth.Open(b, &pkt); err != nil {
		p.mu.Unlock()
		p.mux.stat.badMAC.Add(1)
		return
	}
	ok := p.t.answer(&pkt, rx)
	changed := len(p.t.transitions) > 0
	if ok && p.timer != nil {
		// The answered probe's deadlines no longer need a wake-up: move
		// the timer to the next thing due, saving a wake-up per probe.
		p.timer.Reset(p.t.wake().Sub(p.mux.now()))
	}
	p.mu.Unlock()
	if !ok {
		p.mux.stat.unmatched.Add(1)
		return
	}
	p.mux.stat.replies.Add(1)
	if changed {
		p.wake()
	}
}

// CheckResult is the outcome of CheckNow: the burst's own figures, and the
// path's metrics after it.
type CheckResult struct {
	Sent, Received int
	// LossPct is the share of the burst's probes unanswered by their
	// deadlines.
	LossPct float64
	// LatencyMs, MinMs and MaxMs summarise the burst's round-trip times;
	// JitterMs is the mean absolute difference of successive ones. All are
	// zero when nothing was answered.
	LatencyMs, MinMs, MaxMs, JitterMs float64
	// Path is the path's metrics once the burst is over.
	Path Metrics
}

// CheckNow sends n probes at once, paced at ConfirmInterval, waits for each
// to be answered or to miss its deadline, and returns what they measured.
// The probes also count towards the path's estimates and state, as any
// measurement does. It returns early with ctx's error.
func (p *Prober) CheckNow(ctx context.Context, n int) (CheckResult, error) {
	if n <= 0 || n > 1000 {
		return CheckResult{}, fmt.Errorf("probe: check %d probes: want 1 to 1000", n)
	}
	p.mu.Lock()
	c := p.t.startCheck(n, p.mux.now())
	p.mu.Unlock()
	p.wake()
	select {
	case <-c.done:
	case <-ctx.Done():
		p.mu.Lock()
		p.t.cancelCheck(c)
		p.mu.Unlock()
		return CheckResult{}, ctx.Err()
	case <-p.quit:
		return CheckResult{}, ErrClosed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := CheckResult{Sent: c.sent, Received: c.answered, Path: p.t.metrics()}
	r.LossPct = 100 * float64(c.sent-c.answered) / float64(c.sent)
	if len(c.rtts) > 0 {
		var sum, jit time.Duration
		lo, hi := c.rtts[0], c.rtts[0]
		for i, x := range c.rtts {
			sum += x
			lo, hi = min(lo, x), max(hi, x)
			if i > 0 {
				jit += absDur(x - c.rtts[i-1])
			}
		}
		r.LatencyMs = ms(sum) / float64(len(c.rtts))
		r.MinMs, r.MaxMs = ms(lo), ms(hi)
		if len(c.rtts) > 1 {
			r.JitterMs = ms(jit) / float64(len(c.rtts)-1)
		}
	}
	return r, nil
}
