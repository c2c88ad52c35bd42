package stats

import (
	"context"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

func TestPackRoundTrip(t *testing.T) {
	for _, k := range []sdwan.FlowKey{{}, flow(1), flow(65535), flow(7).Reverse(),
		{Src: [16]byte{1, 2, 3}, Dst: [16]byte{15: 9}, SrcPort: 65535, DstPort: 1, Proto: 255}} {
		pk := pack(&k)
		if pk[4]&usedBit == 0 {
			t.Errorf("packed %v is not marked used", k)
		}
		if got := pk.unpack(); got != k {
			t.Errorf("unpack(pack(%v)) = %v", k, got)
		}
	}
}

// TestRecordPacketPacksAsPack checks that the packet path, which reads
// the key's words in its own way, files every flow under pack's words:
// the table's other users (eviction, cleanup, growth) rehash what pack
// would give.
func TestRecordPacketPacksAsPack(t *testing.T) {
	c, _ := newTest(t, Config{Capacity: 4096})
	r := rand.New(rand.NewPCG(5, 5))
	var keys []sdwan.FlowKey
	for range 500 {
		var k sdwan.FlowKey
		for i := range k.Src {
			k.Src[i], k.Dst[i] = byte(r.Uint32()), byte(r.Uint32())
		}
		k.SrcPort, k.DstPort, k.Proto = uint16(r.Uint32()), uint16(r.Uint32()), uint8(r.Uint32())
		keys = append(keys, k)
		c.RecordPacket(1, k, 1)
	}
	for _, k := range keys {
		pk := pack(&k)
		h := c.hash.hash(&pk)
		if _, found, ok := c.shards[h&c.shardMask].lookup(h, &pk); !ok || !found {
			t.Fatalf("flow %v not found under pack's words", k)
		}
	}
	if n := c.TotalActiveFlows(); n != uint64(len(keys)) {
		t.Errorf("%d flows in the table, want %d", n, len(keys))
	}
}

// TestTableAgainstMap drives one shard with random inserts and removals
// and compares it with a map after every step. The table is small and the
// keys few, so probe chains wrap around the array's end and removals
// shift entries across it.
func TestTableAgainstMap(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		r := rand.New(rand.NewPCG(seed, seed))
		hs := newHasher()
		var sh shard
		sh.init(40)
		model := map[packedKey]uint64{}
		keys := make([]packedKey, 60)
		for i := range keys {
			k := flow(i)
			keys[i] = pack(&k)
		}
		for step := range 3000 {
			k := keys[r.IntN(len(keys))]
			h := hs.hash(&k)
			_, present := model[k]
			switch {
			case !present && sh.live < sh.max:
				meta := uint64(step)
				sh.grow(&hs).put(h, &k, meta)
				sh.live++
				model[k] = meta
			case present:
				n, _ := sh.sweep(&hs, r.IntN(64), 1, func(m uint64) bool { return m == model[k] }, func(uint64) {})
				if n != 1 {
					t.Fatalf("seed %d step %d: sweep removed %d entries", seed, step, n)
				}
				delete(model, k)
			}
			tab := sh.tab.Load()
			for _, q := range keys {
				i, meta := tab.find(hs.hash(&q), &q)
				want, ok := model[q]
				if (i >= 0) != ok || (ok && meta != want) {
					t.Fatalf("seed %d step %d: find = %d, %d; want present %v meta %d", seed, step, i, meta, ok, want)
				}
			}
			if sh.live != len(model) {
				t.Fatalf("seed %d step %d: live %d, model %d", seed, step, sh.live, len(model))
			}
		}
	}
}

func TestRunAdvancesClock(t *testing.T) {
	defer goleak.VerifyNone(t)
	synctest.Test(t, func(t *testing.T) {
		c, err := New(Config{Capacity: 1024, Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			c.Run(ctx)
			close(done)
		}()
		c.RecordPacket(1, flow(1), 100)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if got, want := c.tick.Load(), uint32(10*time.Minute/TickInterval); got != want {
			t.Errorf("tick = %d after 10 minutes, want %d", got, want)
		}
		c.RecordPacket(1, flow(2), 100)
		time.Sleep(time.Minute)
		// Flow 1 has been idle 11 minutes, flow 2 one.
		if n := c.CleanupStaleFlows(5 * time.Minute); n != 1 {
			t.Errorf("CleanupStaleFlows removed %d flows, want 1", n)
		}
		cancel()
		<-done
	})
}
