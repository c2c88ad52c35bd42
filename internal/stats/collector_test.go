package stats

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// clock is a settable clock for the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer returns a logger writing to the returned buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

func newTest(t *testing.T, cfg Config) (*Collector, *clock) {
	t.Helper()
	clk := newClock()
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	if cfg.Logger == nil {
		cfg.Logger, _ = logBuffer()
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

// advance moves the test clock and the collector's coarse clock, as Run
// would.
func advance(c *Collector, clk *clock, d time.Duration) {
	clk.Advance(d)
	c.refreshClock()
}

func flow(n int) sdwan.FlowKey {
	src := netip.AddrFrom4([4]byte{10, 0, byte(n >> 8), byte(n)})
	return sdwan.NewFlowKey(src, netip.MustParseAddr("192.0.2.1"), uint16(10000+n), 443, sdwan.ProtoTCP)
}

type rec struct {
	policy int64
	flow   int
	size   int
}

func TestRecordPacket(t *testing.T) {
	tests := []struct {
		name    string
		records []rec
		want    []PolicyStats
		flows   uint64
	}{
		{"nothing", nil, []PolicyStats{}, 0},
		{"one packet", []rec{{1, 1, 100}},
			[]PolicyStats{{PolicyID: 1, PacketsMatched: 1, BytesMatched: 100, ActiveFlows: 1}}, 1},
		{"one flow many packets", []rec{{1, 1, 100}, {1, 1, 200}, {1, 1, 1500}},
			[]PolicyStats{{PolicyID: 1, PacketsMatched: 3, BytesMatched: 1800, ActiveFlows: 1}}, 1},
		{"two policies", []rec{{1, 1, 100}, {2, 2, 60}, {1, 3, 40}, {2, 2, 60}},
			[]PolicyStats{
				{PolicyID: 1, PacketsMatched: 2, BytesMatched: 140, ActiveFlows: 2},
				{PolicyID: 2, PacketsMatched: 2, BytesMatched: 120, ActiveFlows: 1},
			}, 3},
		{"ids beyond the dense range and negative", []rec{{1 << 40, 1, 10}, {-5, 2, 20}, {denseLimit, 3, 30}},
			[]PolicyStats{
				{PolicyID: -5, PacketsMatched: 1, BytesMatched: 20, ActiveFlows: 1},
				{PolicyID: denseLimit, PacketsMatched: 1, BytesMatched: 30, ActiveFlows: 1},
				{PolicyID: 1 << 40, PacketsMatched: 1, BytesMatched: 10, ActiveFlows: 1},
			}, 3},
		{"a flow moving to another policy takes its active count along", []rec{{1, 1, 100}, {1, 2, 100}, {2, 1, 50}},
			[]PolicyStats{
				{PolicyID: 1, PacketsMatched: 2, BytesMatched: 200, ActiveFlows: 1},
				{PolicyID: 2, PacketsMatched: 1, BytesMatched: 50, ActiveFlows: 1},
			}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTest(t, Config{Capacity: 4096})
			var packets, bytes uint64
			for _, r := range tt.records {
				c.RecordPacket(r.policy, flow(r.flow), r.size)
				packets++
				bytes += uint64(r.size)
			}
			if diff := cmp.Diff(tt.want, c.AllPolicyStats()); diff != "" {
				t.Errorf("AllPolicyStats mismatch (-want +got):\n%s", diff)
			}
			for _, w := range tt.want {
				got, ok := c.PolicyStats(w.PolicyID)
				if !ok {
					t.Errorf("PolicyStats(%d) not found", w.PolicyID)
				}
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("PolicyStats(%d) mismatch (-want +got):\n%s", w.PolicyID, diff)
				}
				if n := c.ActiveFlowCount(w.PolicyID); n != w.ActiveFlows {
					t.Errorf("ActiveFlowCount(%d) = %d, want %d", w.PolicyID, n, w.ActiveFlows)
				}
			}
			if _, ok := c.PolicyStats(999); ok {
				t.Error("PolicyStats of an unseen policy found")
			}
			if c.TotalPackets() != packets || c.TotalBytes() != bytes || c.TotalActiveFlows() != tt.flows {
				t.Errorf("totals = %d packets, %d bytes, %d flows; want %d, %d, %d",
					c.TotalPackets(), c.TotalBytes(), c.TotalActiveFlows(), packets, bytes, tt.flows)
			}
		})
	}
}

func TestCleanupStaleFlows(t *testing.T) {
	c, clk := newTest(t, Config{Capacity: 4096})
	for i := range 10 {
		c.RecordPacket(int64(i%2), flow(i), 100)
	}
	advance(c, clk, 4*time.Minute)
	for i := range 4 { // flows 0-3 stay busy
		c.RecordPacket(int64(i%2), flow(i), 100)
	}
	advance(c, clk, 2*time.Minute)

	if n := c.CleanupStaleFlows(5 * time.Minute); n != 6 {
		t.Errorf("CleanupStaleFlows removed %d flows, want 6", n)
	}
	if n := c.TotalActiveFlows(); n != 4 {
		t.Errorf("TotalActiveFlows = %d after cleanup, want 4", n)
	}
	if a, b := c.ActiveFlowCount(0), c.ActiveFlowCount(1); a != 2 || b != 2 {
		t.Errorf("active flows per policy = %d, %d; want 2, 2", a, b)
	}
	if n := c.CleanupStaleFlows(5 * time.Minute); n != 0 {
		t.Errorf("second cleanup removed %d flows", n)
	}
	// Counts of packets are history and stay.
	if n := c.TotalPackets(); n != 14 {
		t.Errorf("TotalPackets = %d, want 14", n)
	}
	// A removed flow that comes back is a new flow.
	c.RecordPacket(0, flow(8), 100)
	if n := c.ActiveFlowCount(0); n != 3 {
		t.Errorf("ActiveFlowCount(0) = %d after a flow returned, want 3", n)
	}
}

func TestReset(t *testing.T) {
	c, _ := newTest(t, Config{Capacity: 4096})
	for i := range 6 {
		c.RecordPacket(int64(1+i%3), flow(i), 1000)
	}

	c.ResetPolicy(2)
	c.ResetPolicy(77) // unknown: nothing to do
	got, _ := c.PolicyStats(2)
	if got.PacketsMatched != 0 || got.BytesMatched != 0 || got.ActiveFlows != 2 {
		t.Errorf("after ResetPolicy(2): %+v, want zero counts and 2 active flows", got)
	}
	if s, _ := c.PolicyStats(1); s.PacketsMatched != 2 {
		t.Errorf("ResetPolicy(2) touched policy 1: %+v", s)
	}
	c.RecordPacket(2, flow(1), 10)
	if s, _ := c.PolicyStats(2); s.PacketsMatched != 1 || s.BytesMatched != 10 {
		t.Errorf("policy 2 after reset and one packet: %+v", s)
	}
	if n := c.TotalPackets(); n != 5 {
		t.Errorf("TotalPackets = %d, want 5", n)
	}

	c.ResetAll()
	if c.TotalPackets() != 0 || c.TotalBytes() != 0 || c.TotalActiveFlows() != 0 {
		t.Errorf("after ResetAll: %d packets, %d bytes, %d flows", c.TotalPackets(), c.TotalBytes(), c.TotalActiveFlows())
	}
	for _, s := range c.AllPolicyStats() {
		if s.PacketsMatched != 0 || s.ActiveFlows != 0 {
			t.Errorf("after ResetAll: %+v", s)
		}
	}
	// The cumulative counters the reporter reads never go back.
	var opened uint64
	for _, k := range c.Counters(nil) {
		opened += k.FlowsOpened
	}
	if opened != 6 {
		t.Errorf("flows opened = %d after ResetAll, want 6", opened)
	}
}

func TestSnapshot(t *testing.T) {
	c, clk := newTest(t, Config{Capacity: 4096})
	c.RecordPacket(3, flow(1), 500)
	c.RecordPacket(1, flow(2), 100)
	clk.Advance(90 * time.Second)
	want := []SnapshotRow{
		{Timestamp: clk.Now(), PolicyStats: PolicyStats{PolicyID: 1, PacketsMatched: 1, BytesMatched: 100, ActiveFlows: 1}},
		{Timestamp: clk.Now(), PolicyStats: PolicyStats{PolicyID: 3, PacketsMatched: 1, BytesMatched: 500, ActiveFlows: 1}},
	}
	if diff := cmp.Diff(want, c.Snapshot()); diff != "" {
		t.Errorf("Snapshot mismatch (-want +got):\n%s", diff)
	}
	// Snapshot advanced the coarse clock.
	if got, want := c.tick.Load(), uint32(90*time.Second/TickInterval); got != want {
		t.Errorf("tick = %d after Snapshot, want %d", got, want)
	}
}

func TestEvictsLongestIdle(t *testing.T) {
	// One shard of 64 flows: each eviction takes the batch idlest.
	c, clk := newTest(t, Config{Capacity: 64})
	if c.Capacity() != 64 || len(c.shards) != 1 {
		t.Fatalf("capacity %d in %d shards, want 64 in 1", c.Capacity(), len(c.shards))
	}
	batch := 64 / evictBatch
	// Flow i gets policy i, so ActiveFlowCount(i) tells whether flow i
	// is still in the table.
	for i := range 64 {
		c.RecordPacket(int64(i), flow(i), 1)
		advance(c, clk, time.Second)
	}
	for i := range 10 { // refresh flows 0-9: now 10, 11 ... are the idlest
		c.RecordPacket(int64(i), flow(i), 1)
	}
	advance(c, clk, time.Second)
	c.RecordPacket(100, flow(100), 1)

	var gone, want []int
	for i := range 64 {
		if c.ActiveFlowCount(int64(i)) == 0 {
			gone = append(gone, i)
		}
	}
	for i := range batch {
		want = append(want, 10+i)
	}
	if diff := cmp.Diff(want, gone); diff != "" {
		t.Errorf("evicted flows mismatch (-want +got):\n%s", diff)
	}
	if n := c.shards[0].evictions.Load(); n != uint64(batch) {
		t.Errorf("evictions = %d, want %d", n, batch)
	}
	if n := c.TotalActiveFlows(); n != uint64(64-batch+1) {
		t.Errorf("TotalActiveFlows = %d, want %d", n, 64-batch+1)
	}
}

// probeStats returns the mean and longest distance of the shard's entries
// from their home slots.
func probeStats(c *Collector, sh *shard) (mean float64, longest int) {
	t := sh.tab.Load()
	total, n := 0, 0
	for i := range t.slots {
		if t.slots[i].w[4].Load() == 0 {
			continue
		}
		pk := t.load(i)
		d := i - t.home(c.hash.hash(&pk))
		if d < 0 {
			d += len(t.slots)
		}
		total += d + 1
		longest = max(longest, d+1)
		n++
	}
	return float64(total) / float64(max(n, 1)), longest
}

func TestFloodStaysBounded(t *testing.T) {
	// A flood of new flows, all within one tick so that every flow is
	// equally idle: the table stays within capacity, counts every
	// eviction, and its probe chains stay short.
	c, _ := newTest(t, Config{Capacity: 1024, Shards: 4})
	var k sdwan.FlowKey
	k.Proto = sdwan.ProtoUDP
	const n = 20_000
	for i := range n {
		binary.LittleEndian.PutUint64(k.Src[8:], uint64(i))
		c.RecordPacket(1, k, 64)
	}
	live := c.TotalActiveFlows()
	if live > uint64(c.Capacity()) || live < uint64(c.Capacity())*9/10 {
		t.Errorf("%d flows in a table of capacity %d", live, c.Capacity())
	}
	var evictions uint64
	for i := range c.shards {
		sh := &c.shards[i]
		evictions += sh.evictions.Load()
		if mean, longest := probeStats(c, sh); mean > 4 || longest > 100 {
			t.Errorf("shard %d: probe length mean %.1f, longest %d", i, mean, longest)
		}
	}
	if evictions != n-live {
		t.Errorf("evictions = %d, want %d", evictions, n-live)
	}
	if got := c.ActiveFlowCount(1); got != live {
		t.Errorf("ActiveFlowCount = %d, table holds %d", got, live)
	}
}

func TestUpdateFlowCountsRepairsDrift(t *testing.T) {
	log, buf := logBuffer()
	c, _ := newTest(t, Config{Capacity: 4096, Shards: 8, Logger: log})
	for i := range 100 {
		c.RecordPacket(int64(i%3), flow(i), 1)
	}
	c.UpdateFlowCounts()
	if buf.Len() != 0 {
		t.Fatalf("audit of exact counts logged: %s", buf)
	}
	// Break the books of two policies, one each way.
	p := c.pol.get(1)
	p.stripes[0].active.Add(^uint64(4)) // -5
	q := c.pol.get(2)
	q.stripes[q.n-1].active.Add(3)
	c.UpdateFlowCounts()
	for id, want := range map[int64]uint64{0: 34, 1: 33, 2: 33} {
		if got := c.ActiveFlowCount(id); got != want {
			t.Errorf("ActiveFlowCount(%d) = %d after audit, want %d", id, got, want)
		}
	}
	if !bytes.Contains(buf.Bytes(), []byte("drifted")) {
		t.Errorf("audit did not log the drift: %q", buf)
	}
}

func TestConcurrentUse(t *testing.T) {
	// Writers on overlapping flows and policies while readers and
	// maintenance run: no race, and the counts come out exact.
	log, buf := logBuffer()
	c, clk := newTest(t, Config{Capacity: 2048, Shards: 8, Logger: log})
	const writers, perWriter = 4, 5_000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				n := (i*7 + w*13) % 3000 // more flows than capacity: evictions too
				c.RecordPacket(int64(n%5), flow(n), 1+n%100)
			}
		})
	}
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			c.AllPolicyStats()
			c.TotalPackets()
			c.ActiveFlowCount(2)
			c.UpdateFlowCounts()
			advance(c, clk, time.Second)
			c.CleanupStaleFlows(time.Hour)
			c.Counters(nil)
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()

	var wantBytes uint64
	for w := range writers {
		for i := range perWriter {
			wantBytes += uint64(1 + (i*7+w*13)%3000%100)
		}
	}
	if got := c.TotalPackets(); got != writers*perWriter {
		t.Errorf("TotalPackets = %d, want %d", got, writers*perWriter)
	}
	if got := c.TotalBytes(); got != wantBytes {
		t.Errorf("TotalBytes = %d, want %d", got, wantBytes)
	}
	var active uint64
	for _, s := range c.AllPolicyStats() {
		active += s.ActiveFlows
	}
	if table := c.TotalActiveFlows(); active != table || table > uint64(c.Capacity()) {
		t.Errorf("policies count %d active flows, table holds %d, capacity %d", active, table, c.Capacity())
	}
	c.UpdateFlowCounts()
	if buf.Len() != 0 {
		t.Errorf("audit found drift: %s", buf)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestIdleBuckets(t *testing.T) {
	// Every idle time falls in the bucket whose range holds it, and the
	// buckets tile the range without gaps.
	var next uint64
	for b := range idleBuckets {
		lo, width := idleRange(b)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", b, lo, next)
		}
		for _, d := range []uint64{lo, lo + width/2, lo + width - 1} {
			if got := idleBucket(d); got != b {
				t.Fatalf("idleBucket(%d) = %d, want %d", d, got, b)
			}
		}
		next = lo + width
	}
	if next != 1<<32 {
		t.Errorf("buckets end at %d, want 2^32", next)
	}
}

func TestClockNeverGoesBack(t *testing.T) {
	c, clk := newTest(t, Config{Capacity: 1024})
	advance(c, clk, time.Minute)
	c.RecordPacket(1, flow(1), 1) // stamped a minute in
	// A refresh that read an earlier time and stores late.
	clk.Advance(-30 * time.Second)
	c.refreshClock()
	if got, want := c.tick.Load(), uint32(time.Minute/TickInterval); got != want {
		t.Errorf("tick = %d after a late refresh, want %d", got, want)
	}
	// A flow stamped after the tick a cleanup uses is not idle.
	if n := c.CleanupStaleFlows(time.Second); n != 0 {
		t.Errorf("cleanup removed %d flows stamped in the future", n)
	}
	if d := idleTicks(5, metaOf(1, 7)); d != 0 {
		t.Errorf("idleTicks of a stamp after now = %d, want 0", d)
	}
	if d := idleTicks(3, metaOf(1, ^uint32(0))); d != 4 {
		t.Errorf("idleTicks across the wrap = %d, want 4", d)
	}
}
