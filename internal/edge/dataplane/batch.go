package dataplane

import (
	"sync"

	"golang.zx2c4.com/wireguard/conn"
)

// batchSize is the most packets a batch carries: WireGuard's own batch.
const batchSize = conn.IdealBatchSize

// pathBatchSize is the batch each path's WireGuard device works in. A
// device holds that many 64 KiB message buffers for each of its reading
// routines (one for its tun side, one for its bind), so at WireGuard's
// usual 128 every path costs 16 MiB whether it carries traffic or not (8 GiB
// for one edge with 500 paths); at 32 it costs 4 MiB, and throughput through
// one path measured the same (docs/bench/dataplane.md). The link socket and
// the site device keep their large batches (GSO and GRO happen there); the
// path devices hand on smaller ones.
const pathBatchSize = 32

// batchPool recycles batches, whose buffers are large enough for one
// packet of the site device's MTU each.
type batchPool struct {
	pool sync.Pool
}

func newBatchPool(mtu int) *batchPool {
	bufLen := batchOffset + max(mtu, 1500) + 64
	bp := &batchPool{}
	bp.pool.New = func() any {
		b := &batch{bufs: make([][]byte, batchSize), sizes: make([]int, batchSize)}
		mem := make([]byte, bufLen*batchSize)
		for i := range b.bufs {
			b.bufs[i] = mem[i*bufLen : (i+1)*bufLen : (i+1)*bufLen]
		}
		return b
	}
	return bp
}

func (bp *batchPool) get() *batch {
	b := bp.pool.Get().(*batch)
	b.n, b.next = 0, 0
	return b
}

func (bp *batchPool) put(b *batch) { bp.pool.Put(b) }
