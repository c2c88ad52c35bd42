package graph

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/graph/model"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// StatsSource gives the live traffic totals that edges report;
// *stats.Aggregator is one.
type StatsSource interface {
	PolicyTotals(policyID int64) stats.Totals
	SiteTotals(site string) stats.Totals
	AllPolicyTotals() []stats.PolicyTotals
}

// point is what a rate is computed from: counters at a time.
type point struct {
	at      time.Time
	cpu     float64 // process CPU seconds
	packets uint64
	bytes   uint64
}

// sampler keeps the history behind metricsHistory: a snapshot every
// interval, for the retention period, in a ring. The history is this
// replica's view (its process's CPU and memory, the traffic its edges
// reported) and starts afresh when the controller does.
type sampler struct {
	a        *API
	interval time.Duration
	mu       sync.Mutex
	ring     []model.SystemMetrics
	next     int // ring index the next sample goes to
	full     bool
	last     *point // the last recorded sample's counters; nil before the first; never written through
}

// History retention of metricsHistory.
const (
	sampleInterval = 10 * time.Second
	sampleKeep     = 24 * time.Hour
)

func newSampler(a *API) *sampler {
	return &sampler{a: a, interval: sampleInterval, ring: make([]model.SystemMetrics, int(sampleKeep/sampleInterval))}
}

// run records a snapshot every interval until ctx ends.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.record(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *sampler) record(ctx context.Context) {
	m, p, err := s.a.snapshot(ctx, s.prev())
	if err != nil {
		s.a.log.WarnContext(ctx, "metrics sample", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = &p
	s.ring[s.next] = *m
	s.next = (s.next + 1) % len(s.ring)
	s.full = s.full || s.next == 0
}

// prev returns the last recorded sample's counters, nil before the first.
func (s *sampler) prev() *point {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// current returns a snapshot now, with rates over the time since the last
// recorded sample.
func (s *sampler) current(ctx context.Context) (*model.SystemMetrics, error) {
	m, _, err := s.a.snapshot(ctx, s.prev())
	return m, err
}

// history returns the samples in [from, to], averaged per step.
func (s *sampler) history(from, to time.Time, step time.Duration) []*model.SystemMetrics {
	s.mu.Lock()
	var in []model.SystemMetrics
	n := s.next
	if s.full {
		n = len(s.ring)
	}
	for i := range n {
		idx := i
		if s.full {
			idx = (s.next + i) % len(s.ring)
		}
		m := s.ring[idx]
		if !m.Timestamp.Before(from) && !m.Timestamp.After(to) {
			in = append(in, m)
		}
	}
	s.mu.Unlock()
	var out []*model.SystemMetrics
	for i := 0; i < len(in); {
		bucket := in[i].Timestamp.Truncate(step)
		j := i
		for j < len(in) && in[j].Timestamp.Truncate(step).Equal(bucket) {
			j++
		}
		out = append(out, average(in[i:j]))
		i = j
	}
	return out
}

// average folds samples into one at the time of the last: rates and
// percentages are averaged, counts and gauges taken from the last.
func average(ms []model.SystemMetrics) *model.SystemMetrics {
	out := ms[len(ms)-1]
	var cpu, mem, thr, lat, loss float64
	var pps int64
	for _, m := range ms {
		cpu += m.CPUUsage
		mem += m.MemoryUsage
		thr += m.ThroughputMbps
		lat += m.AvgLatencyMs
		loss += m.AvgPacketLoss
		pps += m.PacketsPerSecond
	}
	n := float64(len(ms))
	out.CPUUsage, out.MemoryUsage, out.ThroughputMbps = cpu/n, mem/n, thr/n
	out.AvgLatencyMs, out.AvgPacketLoss = lat/n, loss/n
	out.PacketsPerSecond = pps / int64(len(ms))
	return &out
}

var memSample = []metrics.Sample{{Name: "/memory/classes/total:bytes"}}

// snapshot measures the controller and the fleet now; with prev it also
// computes CPU use, throughput and packet rate over the time since prev.
func (a *API) snapshot(ctx context.Context, prev *point) (*model.SystemMetrics, point, error) {
	now := a.now()
	p := point{at: now, cpu: processCPUSeconds()}
	var active uint64
	for _, t := range a.stats.AllPolicyTotals() {
		p.packets += t.Packets
		p.bytes += t.Bytes
		active += t.ActiveFlows
	}
	ms := make([]metrics.Sample, len(memSample))
	copy(ms, memSample)
	metrics.Read(ms)
	var memBytes uint64
	if ms[0].Value.Kind() == metrics.KindUint64 {
		memBytes = ms[0].Value.Uint64()
	}
	out := &model.SystemMetrics{
		Timestamp: now.UTC(), MemoryBytes: clampInt64(memBytes), Goroutines: runtime.NumGoroutine(),
		ActiveFlows: clampInt64(active),
	}
	if total := machineMemory(); total > 0 {
		out.MemoryUsage = 100 * float64(memBytes) / float64(total)
	}
	if prev != nil {
		if dt := now.Sub(prev.at).Seconds(); dt > 0 {
			out.CPUUsage = 100 * (p.cpu - prev.cpu) / dt
			if p.packets >= prev.packets && p.bytes >= prev.bytes {
				out.PacketsPerSecond = int64(float64(p.packets-prev.packets) / dt)
				out.ThroughputMbps = float64(p.bytes-prev.bytes) * 8 / 1e6 / dt
			}
		}
	}
	q := a.st.Read()
	var err error
	if out.Sites, err = q.CountSites(ctx); err != nil {
		return nil, p, err
	}
	counts, err := q.PathStatusCounts(ctx)
	if err != nil {
		return nil, p, err
	}
	out.PathsUp, out.PathsDegraded, out.PathsDown = counts[sdwan.PathUp], counts[sdwan.PathDegraded], counts[sdwan.PathDown]
	out.Paths = out.PathsUp + out.PathsDegraded + out.PathsDown
	if out.AvgLatencyMs, out.AvgPacketLoss, _, err = q.LatestMetricsAverages(ctx); err != nil {
		return nil, p, err
	}
	return out, p, nil
}
