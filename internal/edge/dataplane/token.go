package dataplane

import "sync/atomic"

// readToken lets the goroutines that share a device take turns reading
// it: the site device, read by the path devices' TUN readers, and a
// link's socket, read by the path binds' receive functions. Whoever holds
// the token reads, hands on what is not its own, and keeps reading until
// it reads something of its own; then it gives the token back and goes on
// with its own. So everything read is handed on in the order it was read,
// and the token changes hands only when its holder has work of its own
// (handing it on after every read woke another goroutine for every
// datagram a probe brought). While no reader has joined, a stand-in
// goroutine reads in their place.
type readToken struct {
	c       chan struct{} // holds the token while no one does
	readers atomic.Int32  // joined readers
	wake    chan struct{} // tells the stand-in that readers fell to 0
	stop    chan struct{} // closed by close
	end     chan struct{} // closed when the stand-in returns; nil until started
}

func newReadToken() *readToken {
	t := &readToken{c: make(chan struct{}, 1), wake: make(chan struct{}, 1), stop: make(chan struct{})}
	t.c <- struct{}{}
	return t
}

// take is the channel to receive the token from.
func (t *readToken) take() <-chan struct{} { return t.c }

// give gives the token back.
func (t *readToken) give() { t.c <- struct{}{} }

// join and leave count the readers that take turns.
func (t *readToken) join() { t.readers.Add(1) }

func (t *readToken) leave() {
	if t.readers.Add(-1) == 0 {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// readResult is what one read of a shared device brought its reader.
type readResult int

const (
	readOthers readResult = iota // others' packets only, or a passing error
	readMine                     // packets of the reader's own
	readClosed                   // the device is closed: nothing more to read
)

// takeTurn is a reader's turn once it holds the token: what was queued
// for it comes first, with the token given back at once, because it was
// read before anything the reader could read now (nothing is queued while
// the token is held); else the reader reads until read brings something of
// its own (ok), or done is closed, and gives the token back. After
// readClosed the token is kept: there is nothing more to read.
func takeTurn[T any](t *readToken, queued <-chan T, done <-chan struct{}, read func() (T, readResult)) (v T, ok bool) {
	select {
	case v = <-queued:
		t.give()
		return v, true
	default:
	}
	for {
		v, r := read()
		switch r {
		case readMine:
			t.give()
			return v, true
		case readClosed:
			return v, false
		}
		select {
		case <-done:
			t.give()
			return v, false
		default:
		}
	}
}

// startStandIn starts the stand-in, once: a goroutine that takes the
// token whenever no reader has joined and reads, as takeTurn does, until
// a reader joins or the device is closed, until close. Its callers
// serialise startStandIn and close.
func (t *readToken) startStandIn(read func() readResult) {
	if t.end != nil {
		return
	}
	t.end = make(chan struct{})
	go func() {
		defer close(t.end)
		t.standIn(read)
	}()
}

func (t *readToken) standIn(read func() readResult) {
	for {
		if t.readers.Load() > 0 {
			select {
			case <-t.wake:
				continue
			case <-t.stop:
				return
			}
		}
		select {
		case <-t.c:
		case <-t.stop:
			return
		}
		for t.readers.Load() == 0 {
			if read() == readClosed {
				<-t.stop // the token stays taken
				return
			}
		}
		t.give()
	}
}

// close ends the stand-in and waits for it.
func (t *readToken) close() {
	close(t.stop)
	if t.end != nil {
		<-t.end
	}
}
