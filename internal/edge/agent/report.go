package agent

import (
	"context"
	"sync"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/edge/probe"
)

// Report backlog limits: while the controller is away the agent keeps the
// last minute of metrics and the newest state changes, and sends them when
// it is back; beyond that the oldest go.
const (
	maxPendingBatches = 60
	maxPendingStates  = 10_000
	reportTimeout     = 5 * time.Second
)

// reporter sends metrics every ReportInterval and state changes as soon as
// they happen.
type reporter struct {
	a    *Agent
	kick chan struct{}

	mu      sync.Mutex
	states  []edgeapi.StateChange
	batches [][]edgeapi.Metrics
	flows   []edgeapi.FlowEvent // the data plane's failovers
}

func newReporter(a *Agent) *reporter {
	return &reporter{a: a, kick: make(chan struct{}, 1)}
}

func (r *reporter) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// transition queues a prober's state change; it runs on the prober's
// goroutine, so it only queues.
func (r *reporter) transition(pathID string, tr probe.Transition) {
	r.mu.Lock()
	r.states = append(r.states, edgeapi.StateChange{
		PathID: pathID, From: tr.From.String(), To: tr.To.String(), At: tr.At.UTC(), Reason: tr.Reason,
	})
	if n := len(r.states) - maxPendingStates; n > 0 {
		r.states = r.states[n:]
	}
	r.mu.Unlock()
	r.wake()
}

// resync queues the current state of every path, so that a controller
// that missed changes while the agent could not reach it catches up; the
// controller skips those it already agrees with.
func (r *reporter) resync() {
	now := r.a.now().UTC()
	ps := r.a.Paths()
	r.mu.Lock()
	for _, p := range ps {
		r.states = append(r.states, edgeapi.StateChange{PathID: p.PathID, To: p.Metrics.State.String(), At: now, Reason: "resynchronised by the edge"})
	}
	r.mu.Unlock()
	r.wake()
}

func (r *reporter) run(ctx context.Context) {
	t := time.NewTicker(r.a.cfg.ReportInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
			r.flushStates(ctx)
			r.flushFlowEvents(ctx)
		case <-t.C:
			r.collect()
			r.flushStates(ctx)
			r.flushFlowEvents(ctx)
			r.flushMetrics(ctx)
		}
	}
}

// collect takes a snapshot of every path's metrics as one batch.
func (r *reporter) collect() {
	ps := r.a.Paths()
	if len(ps) == 0 {
		return
	}
	now := r.a.now()
	batch := make([]edgeapi.Metrics, len(ps))
	for i, p := range ps {
		batch[i] = toMetrics(p.PathID, p.Metrics, now)
	}
	r.mu.Lock()
	r.batches = append(r.batches, batch)
	if n := len(r.batches) - maxPendingBatches; n > 0 {
		r.batches = r.batches[n:]
	}
	r.mu.Unlock()
}

func (r *reporter) flushStates(ctx context.Context) {
	r.mu.Lock()
	pending := r.states
	r.mu.Unlock()
	if len(pending) == 0 || !r.a.Connected() {
		return
	}
	pending = pending[:min(len(pending), edgeapi.MaxBatch)]
	cctx, cancel := context.WithTimeout(ctx, reportTimeout)
	err := r.a.client.ReportStates(cctx, edgeapi.StateBatch{Changes: pending})
	cancel()
	if err != nil {
		r.a.log.Warn("report path states", "changes", len(pending), "err", err)
		return
	}
	r.mu.Lock()
	// Changes queued meanwhile are behind the ones sent.
	r.states = r.states[min(len(pending), len(r.states)):]
	r.mu.Unlock()
	if len(pending) == edgeapi.MaxBatch {
		r.wake()
	}
}

func (r *reporter) flushMetrics(ctx context.Context) {
	r.mu.Lock()
	batches := r.batches
	r.mu.Unlock()
	if len(batches) == 0 || !r.a.Connected() {
		return
	}
	var sent int
	var all []edgeapi.Metrics
	for _, b := range batches {
		if len(all)+len(b) > edgeapi.MaxBatch && len(all) > 0 {
			break
		}
		all = append(all, b...)
		sent++
	}
	cctx, cancel := context.WithTimeout(ctx, reportTimeout)
	err := r.a.client.ReportMetrics(cctx, edgeapi.MetricsBatch{Metrics: all})
	cancel()
	if err != nil {
		r.a.log.Warn("report path metrics", "metrics", len(all), "err", err)
		return
	}
	r.mu.Lock()
	r.batches = r.batches[min(sent, len(r.batches)):]
	r.mu.Unlock()
}
