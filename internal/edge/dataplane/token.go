package dataplane

import "sync/atomic"

// readToken lets the goroutines that share a device take turns reading
// it: the site device, read by the path devices' TUN readers, and a
// link's socket, read by the path binds' receive functions. Whoever holds
// the token reads once, hands on what is not its own, and gives the token
// back, so everything read is handed on in the order it was read. While
// no reader has joined, a stand-in goroutine reads in their place.
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

// takeTurn is a reader's turn once it holds the token: what was queued
// for it comes first, with the token given back at once, because it was
// read before anything the reader could read now (nothing is queued while
// the token is held); else the reader reads, and read gives the token
// back. ok is false when there is nothing for the reader.
func takeTurn[T any](t *readToken, queued <-chan T, read func() (T, bool)) (v T, ok bool) {
	select {
	case v = <-queued:
		t.give()
		return v, true
	default:
		return read()
	}
}

// startStandIn starts the stand-in, once: a goroutine that calls read,
// holding the token, whenever no reader has joined, until close. read
// gives the token back, or keeps it when the device is closed and there
// is nothing more to read. Its callers serialise startStandIn and close.
func (t *readToken) startStandIn(read func()) {
	if t.end != nil {
		return
	}
	t.end = make(chan struct{})
	go func() {
		defer close(t.end)
		t.standIn(read)
	}()
}

func (t *readToken) standIn(read func()) {
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
		if t.readers.Load() > 0 {
			t.give()
			continue
		}
		read()
	}
}

// close ends the stand-in and waits for it.
func (t *readToken) close() {
	close(t.stop)
	if t.end != nil {
		<-t.end
	}
}
