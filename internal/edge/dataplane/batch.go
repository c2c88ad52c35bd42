package dataplane

import (
	"sync"

	"golang.zx2c4.com/wireguard/conn"
)

// batchSize is the most packets a batch carries: WireGuard's own batch.
const batchSize = conn.IdealBatchSize

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
