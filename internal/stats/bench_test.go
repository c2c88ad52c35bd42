package stats

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// cpuClock measures the process's CPU time over a benchmark loop. The
// machines these run on are shared, and a benchmark that gets a third of a
// core reports three times its cost in ns/op; CPU time per operation does
// not move with the neighbours' load.
type cpuClock struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(b *testing.B) *cpuClock {
	b.ResetTimer()
	return &cpuClock{start: cpuNow()}
}

// report adds cpu-ns/op, the CPU time of all the process's threads per
// operation.
func (c *cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(cpuNow()-c.start)/float64(b.N), "cpu-ns/op")
}

// benchKeys returns n distinct IPv4 TCP flow keys.
func benchKeys(n int) []sdwan.FlowKey {
	keys := make([]sdwan.FlowKey, n)
	for i := range keys {
		k := &keys[i]
		k.Src[10], k.Src[11], k.Dst[10], k.Dst[11] = 0xff, 0xff, 0xff, 0xff
		binary.BigEndian.PutUint32(k.Src[12:], 0x0a000000|uint32(i>>8))
		binary.BigEndian.PutUint32(k.Dst[12:], 0xc0a80001)
		k.SrcPort = uint16(1024 + i&0xff)
		k.DstPort = 443
		k.Proto = sdwan.ProtoTCP
	}
	return keys
}

func newBench(b *testing.B, capacity int) *Collector {
	c, err := New(Config{Capacity: capacity})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkRecordPacket(b *testing.B) {
	c := newBench(b, 0)
	k := benchKeys(1)[0]
	c.RecordPacket(1, k, 1500)
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		c.RecordPacket(1, k, 1500)
	}
	cpu.report(b)
}

// flowCounts are the table sizes the many-flow benchmarks run at: 1024
// established flows stay in the caches, so the figure is the collector's
// own cost; 65536 spill them, so every packet also waits on memory, as a
// busy edge's do.
var flowCounts = []int{1 << 10, 1 << 16}

// BenchmarkRecordPacketFlows is the single-goroutine baseline for
// BenchmarkRecordPacketParallel: the same established flows over 8
// policies, visited in a random order, so the two differ only in the
// number of goroutines.
func BenchmarkRecordPacketFlows(b *testing.B) {
	for _, n := range flowCounts {
		b.Run(fmt.Sprint("flows=", n), func(b *testing.B) {
			c, keys := manyFlows(b, n)
			order := rand.Perm(len(keys))
			b.ReportAllocs()
			cpu := startCPU(b)
			i := 0
			for b.Loop() {
				j := order[i&(len(order)-1)]
				c.RecordPacket(int64(j&7), keys[j], 1500)
				i++
			}
			cpu.report(b)
		})
	}
}

func manyFlows(b *testing.B, n int) (*Collector, []sdwan.FlowKey) {
	c := newBench(b, 0)
	keys := benchKeys(n)
	for j, k := range keys {
		c.RecordPacket(int64(j&7), k, 1500)
	}
	return c, keys
}

// BenchmarkRecordPacketParallel runs RecordPacket on every core at once,
// each goroutine visiting the flows in its own random order.
func BenchmarkRecordPacketParallel(b *testing.B) {
	for _, n := range flowCounts {
		b.Run(fmt.Sprint("flows=", n), func(b *testing.B) {
			c, keys := manyFlows(b, n)
			var worker atomic.Uint64
			orders := make([][]int, runtime.GOMAXPROCS(0)*4)
			for w := range orders {
				orders[w] = rand.New(rand.NewPCG(uint64(w), 1)).Perm(len(keys))
			}
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report(b)
			b.RunParallel(func(pb *testing.PB) {
				order := orders[int(worker.Add(1)-1)%len(orders)]
				i := 0
				for pb.Next() {
					j := order[i&(len(order)-1)]
					c.RecordPacket(int64(j&7), keys[j], 1500)
					i++
				}
			})
		})
	}
}

// BenchmarkRecordPacketParallelOwnFlows is BenchmarkRecordPacketParallel
// with each goroutine counting its own flows, as a data plane that spreads
// flows over cores by hash does: a flow's packets are counted on one core
// at a time. The flows of the two goroutines still share shards and
// policies. Compare with BenchmarkRecordPacketFlows at the same flow count.
func BenchmarkRecordPacketParallelOwnFlows(b *testing.B) {
	for _, n := range flowCounts {
		b.Run(fmt.Sprint("flows=", n), func(b *testing.B) {
			c, keys := manyFlows(b, n)
			workers := runtime.GOMAXPROCS(0)
			var worker atomic.Uint64
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report(b)
			b.RunParallel(func(pb *testing.PB) {
				w := int(worker.Add(1)-1) % workers
				// Every workers-th flow, starting at w, in a shuffled order.
				var mine []int
				for j := w; j < len(keys); j += workers {
					mine = append(mine, j)
				}
				rand.New(rand.NewPCG(uint64(w), 2)).Shuffle(len(mine), func(a, b int) { mine[a], mine[b] = mine[b], mine[a] })
				i := 0
				for pb.Next() {
					j := mine[i%len(mine)]
					c.RecordPacket(int64(j&7), keys[j], 1500)
					i++
				}
			})
		})
	}
}

// BenchmarkRecordPacketNewFlows measures the insert path, including
// evictions once the table is full: every packet is a flow never seen.
func BenchmarkRecordPacketNewFlows(b *testing.B) {
	c := newBench(b, 1<<16)
	var k sdwan.FlowKey
	k.Proto = sdwan.ProtoUDP
	b.ReportAllocs()
	cpu := startCPU(b)
	i := uint64(0)
	for b.Loop() {
		binary.LittleEndian.PutUint64(k.Src[8:], i)
		c.RecordPacket(1, k, 100)
		i++
	}
	cpu.report(b)
}

var benchStats PolicyStats

func BenchmarkGetPolicyStats(b *testing.B) {
	c := newBench(b, 0)
	c.RecordPacket(1, benchKeys(1)[0], 1500)
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		s, ok := c.PolicyStats(1)
		if !ok {
			b.Fatal("no stats")
		}
		benchStats = s
	}
	cpu.report(b)
}

// BenchmarkFlowMemory reports the heap held per tracked flow with the
// table holding a million flows.
func BenchmarkFlowMemory(b *testing.B) {
	const flows = 1_000_000
	keys := benchKeys(flows)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := newBench(b, 1<<20)
		for j := range keys {
			c.RecordPacket(int64(j&7), keys[j], 1500)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := c.TotalActiveFlows(); got < flows*99/100 {
			b.Fatalf("table holds %d flows", got)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/flows, "B/flow")
		b.ReportMetric(float64(c.TotalActiveFlows()), "flows")
		runtime.KeepAlive(c)
	}
}

// BenchmarkFlowMemoryGoMap is the comparison for BenchmarkFlowMemory: the
// same million flows in a Go map from key to an 8-byte entry.
func BenchmarkFlowMemoryGoMap(b *testing.B) {
	const flows = 1_000_000
	keys := benchKeys(flows)
	type entry struct{ ref, _ uint32 } // a reference and a last-seen stamp, as the real table keeps
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := make(map[sdwan.FlowKey]entry)
		for j := range keys {
			m[keys[j]] = entry{ref: uint32(j & 7)}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/flows, "B/flow")
		runtime.KeepAlive(m)
	}
}

// BenchmarkClock shows why RecordPacket reads a coarse tick.
func BenchmarkClock(b *testing.B) {
	b.Run("time.Now", func(b *testing.B) {
		b.ReportAllocs()
		var t time.Time
		for b.Loop() {
			t = time.Now()
		}
		_ = t
	})
	b.Run("tick", func(b *testing.B) {
		c := newBench(b, 1024)
		b.ReportAllocs()
		var t uint32
		for b.Loop() {
			t += c.tick.Load()
		}
		_ = fmt.Sprint(t)
	})
}
