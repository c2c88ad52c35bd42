package stats

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Counters are a policy's cumulative counts since its collector started.
// Unlike PolicyStats they ignore resets, so differences between two
// readings are always the traffic in between.
type Counters struct {
	PolicyID int64
	Packets  uint64
	Bytes    uint64
	// FlowsOpened counts flows that entered the flow table under the
	// policy: new flows, flows back after eviction or cleanup, and
	// flows the classifier moved to this policy.
	FlowsOpened uint64
	// ActiveFlows is a gauge: the flows in the table now.
	ActiveFlows uint64
}

// Counters appends every policy's cumulative counters to dst, ordered by
// policy ID, and returns the result.
func (c *Collector) Counters(dst []Counters) []Counters {
	start := len(dst)
	for _, p := range c.pol.idx.Load().byRef {
		packets, bytes, opened, active := p.raw()
		dst = append(dst, Counters{PolicyID: p.id, Packets: packets, Bytes: bytes, FlowsOpened: opened, ActiveFlows: active})
	}
	slices.SortFunc(dst[start:], func(a, b Counters) int { return cmp.Compare(a.PolicyID, b.PolicyID) })
	return dst
}

// Source is what a Reporter reads; *Collector is one.
type Source interface {
	// Counters appends every policy's cumulative counters to dst. The
	// counts of a policy never decrease while its source lives.
	Counters(dst []Counters) []Counters
}

// Delta is one policy's traffic in one report.
type Delta struct {
	PolicyID    int64
	Packets     uint64
	Bytes       uint64
	FlowsOpened uint64
	// ActiveFlows is not a delta but the policy's active flows when the
	// report was cut; the aggregator keeps the latest per edge.
	ActiveFlows uint64
}

// Report is what an edge sends the controller: the traffic per policy since
// its previous report.
type Report struct {
	// Edge names the reporting edge; Site the site it serves.
	Edge string
	Site string
	// Epoch distinguishes the edge's runs: a restarted edge starts its
	// sequence again under a larger epoch.
	Epoch uint64
	// Seq numbers the edge's reports within an epoch, from 1, without
	// gaps.
	Seq uint64
	// Time is when the report was cut.
	Time   time.Time
	Deltas []Delta
}

// ReporterConfig configures a Reporter.
type ReporterConfig struct {
	Source Source
	Edge   string
	Site   string
	// Epoch identifies this run of the edge and must exceed the epoch of
	// every earlier run; the start time in nanoseconds when zero.
	Epoch uint64
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Heartbeat is the longest the Reporter stays silent: with nothing
	// new to report it still cuts a report (perhaps with no deltas) this
	// long after the last, so the controller knows the edge's active-flow
	// gauges are current and can age out those of edges that went away.
	// DefaultHeartbeat when zero.
	Heartbeat time.Duration
}

// DefaultHeartbeat is the Reporter's default longest silence. The
// controller ages out the gauges of an edge silent for GaugeMaxAge.
const (
	DefaultHeartbeat = 30 * time.Second
	GaugeMaxAge      = 3 * DefaultHeartbeat
)

// Reporter produces an edge's reports: per-policy deltas of its source's
// counters, each cut when the previous one has been acknowledged.
//
// A report, once cut, is frozen: until Ack confirms it, Next returns it
// again, same sequence number, same deltas, and traffic since the cut
// waits for the next report. Merging new traffic into a re-sent report
// would seem simpler but loses or doubles counts whenever only the
// acknowledgement was lost: the controller has applied sequence n, and a
// merged re-send under n is a duplicate it must discard, while one under
// n+1 would count n's traffic twice. With frozen reports the controller
// applies each sequence number once and discards repeats, and nothing
// recorded is lost while the edge keeps running, however many reports or
// acknowledgements go missing.
//
// A Reporter is safe for concurrent use.
type Reporter struct {
	src        Source
	edge, site string
	epoch      uint64
	now        func() time.Time
	heartbeat  time.Duration

	mu      sync.Mutex
	lastCut time.Time          // when the last report was cut
	base    map[int64]Counters // the source's counters at the last cut
	seq     uint64             // the last cut's sequence number
	pending *Report            // cut and not yet acknowledged
	buf     []Counters
}

// NewReporter returns a Reporter for cfg.
func NewReporter(cfg ReporterConfig) *Reporter {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Epoch == 0 {
		cfg.Epoch = uint64(cfg.Now().UnixNano())
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	return &Reporter{
		src: cfg.Source, edge: cfg.Edge, site: cfg.Site, epoch: cfg.Epoch, now: cfg.Now, heartbeat: cfg.Heartbeat,
		base: make(map[int64]Counters), lastCut: cfg.Now(),
	}
}

// Next returns the report to send and true, or false when there is no
// unacknowledged report and nothing has changed since the last one, within
// the heartbeat. The returned report shares nothing with the Reporter.
func (r *Reporter) Next() (Report, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending != nil {
		return r.copyPending(), true
	}
	r.buf = r.src.Counters(r.buf[:0])
	var deltas []Delta
	for _, cur := range r.buf {
		prev := r.base[cur.PolicyID]
		if cur.Packets < prev.Packets || cur.Bytes < prev.Bytes || cur.FlowsOpened < prev.FlowsOpened {
			prev = Counters{} // the source restarted its counts
		}
		d := Delta{
			PolicyID:    cur.PolicyID,
			Packets:     cur.Packets - prev.Packets,
			Bytes:       cur.Bytes - prev.Bytes,
			FlowsOpened: cur.FlowsOpened - prev.FlowsOpened,
			ActiveFlows: cur.ActiveFlows,
		}
		_, known := r.base[cur.PolicyID]
		if d.Packets != 0 || d.Bytes != 0 || d.FlowsOpened != 0 || d.ActiveFlows != prev.ActiveFlows || !known {
			deltas = append(deltas, d)
		}
		r.base[cur.PolicyID] = cur
	}
	now := r.now()
	if len(deltas) == 0 && now.Sub(r.lastCut) < r.heartbeat {
		return Report{}, false
	}
	r.seq++
	r.lastCut = now
	r.pending = &Report{Edge: r.edge, Site: r.site, Epoch: r.epoch, Seq: r.seq, Time: now, Deltas: deltas}
	return r.copyPending(), true
}

func (r *Reporter) copyPending() Report {
	rep := *r.pending
	rep.Deltas = slices.Clone(rep.Deltas)
	return rep
}

// Ack records that the controller has the report with sequence seq (applied
// now or before), and reports whether that was the report awaiting one.
// Acknowledgements of other reports, late or duplicated, are ignored.
func (r *Reporter) Ack(seq uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil || r.pending.Seq != seq {
		return false
	}
	r.pending = nil
	return true
}
