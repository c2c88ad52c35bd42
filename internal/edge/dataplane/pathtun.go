package dataplane

import (
	"os"
	"sync"
	"sync/atomic"

	"golang.zx2c4.com/wireguard/tun"
)

// batch is a run of packets read from the site device, on its way to one
// path's WireGuard device. Each buffer holds a packet at offset off.
type batch struct {
	bufs  [][]byte
	sizes []int
	n     int // packets in the batch
	next  int // first packet the path device has not read yet
}

// pathTun is the inner side of one path's WireGuard device: not a kernel
// TUN but a view of the site device. The device's reader reads the site
// device itself when the path has nothing queued, keeping the packets that
// the engine classifies to this path and queueing the others for theirs
// (Engine.readSite); packets the device decrypts are handed to the
// engine's receive function, which writes them to the site device. So one
// site device fans out to the N path devices and back.
type pathTun struct {
	name  string
	mtu   int
	io    pathIO
	in    chan *batch // from other paths' readers
	done  chan struct{}
	once  sync.Once
	evts  chan tun.Event
	cur   *batch // partly read batch, owned by the device's reader
	stats *pathCounters
}

// pathIO is what a path's inner side uses of the engine.
type pathIO struct {
	recv func(bufs [][]byte, offset int) // decrypted packets, to the site
	pool *batchPool                      // where read batches go back
	// reads is the site device's read token, and readSite the read
	// (Engine.readSite).
	reads    *readToken
	readSite func(own *pathTun) (*batch, readResult)
}

// pathCounters count what crossed one path's tunnel, inner packets before
// encryption and after decryption.
type pathCounters struct {
	txPackets, txBytes atomic.Uint64
	rxPackets, rxBytes atomic.Uint64
	txQueueDrops       atomic.Uint64 // packets dropped because the path's queue was full
}

var _ tun.Device = (*pathTun)(nil)

// batchOffset is where packets start in a batch's buffers: the room
// WireGuard and a Linux TUN with offloads need in front of a packet.
const batchOffset = 16

// pathQueueLen is the number of batches that may wait for a path device.
const pathQueueLen = 64

func newPathTun(name string, mtu int, io pathIO, st *pathCounters) *pathTun {
	t := &pathTun{
		name:  name,
		mtu:   mtu,
		io:    io,
		in:    make(chan *batch, pathQueueLen),
		done:  make(chan struct{}),
		evts:  make(chan tun.Event, 1),
		stats: st,
	}
	t.evts <- tun.EventUp
	return t
}

// File implements tun.Device; there is no file.
func (t *pathTun) File() *os.File { return nil }

// Read implements tun.Device: it returns the next packets for this path,
// queued by other paths' readers or read from the site device itself,
// blocking until there are some or the device is closed.
func (t *pathTun) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	for t.cur == nil {
		select {
		case b := <-t.in:
			t.cur = b
		case <-t.done:
			return 0, os.ErrClosed
		case <-t.io.reads.take():
			t.cur, _ = takeTurn(t.io.reads, t.in, t.done, func() (*batch, readResult) { return t.io.readSite(t) })
		}
	}
	b := t.cur
	n, bytes := 0, 0
	for n < len(bufs) && b.next < b.n {
		sz := b.sizes[b.next]
		src := b.bufs[b.next][batchOffset : batchOffset+sz]
		if len(bufs[n])-offset < sz {
			b.next++ // cannot happen with WireGuard's buffers; drop rather than truncate
			continue
		}
		sizes[n] = copy(bufs[n][offset:], src)
		bytes += sz
		n++
		b.next++
	}
	if b.next == b.n {
		t.cur = nil
		t.io.pool.put(b)
	}
	t.stats.txPackets.Add(uint64(n))
	t.stats.txBytes.Add(uint64(bytes))
	return n, nil
}

// Write implements tun.Device: the device's decrypted packets go to the
// engine, which filters them and writes them to the site device.
func (t *pathTun) Write(bufs [][]byte, offset int) (int, error) {
	select {
	case <-t.done:
		return 0, os.ErrClosed
	default:
	}
	bytes := 0
	for _, b := range bufs {
		bytes += len(b) - offset
	}
	t.stats.rxPackets.Add(uint64(len(bufs)))
	t.stats.rxBytes.Add(uint64(bytes))
	t.io.recv(bufs, offset)
	return len(bufs), nil
}

// MTU implements tun.Device.
func (t *pathTun) MTU() (int, error) { return t.mtu, nil }

// Name implements tun.Device.
func (t *pathTun) Name() (string, error) { return t.name, nil }

// Events implements tun.Device. The device is up from the start.
func (t *pathTun) Events() <-chan tun.Event { return t.evts }

// BatchSize implements tun.Device.
func (t *pathTun) BatchSize() int { return pathBatchSize }

// Close implements tun.Device.
func (t *pathTun) Close() error {
	t.once.Do(func() {
		close(t.done)
		close(t.evts)
	})
	return nil
}

// send queues b for the device, waiting while the device is busy (so a
// saturated tunnel slows the site's reader down, as a full NIC queue
// would), or frees it and counts its packets as dropped once the device
// is closed.
func (t *pathTun) send(b *batch) {
	select {
	case t.in <- b:
	case <-t.done:
		t.stats.txQueueDrops.Add(uint64(b.n))
		t.io.pool.put(b)
	}
}
