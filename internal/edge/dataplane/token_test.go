package dataplane

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestReadTokenStandIn checks that the stand-in reads only while no
// reader has joined, holding the token while it reads, and ends on close.
func TestReadTokenStandIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newReadToken()
		feed := make(chan struct{})
		var reads atomic.Int32
		rt.join()
		rt.startStandIn(func() {
			<-feed
			reads.Add(1)
			rt.give()
		})
		synctest.Wait()
		if !tokenFree(rt) {
			t.Fatal("the stand-in took the token while a reader had joined")
		}

		rt.leave()
		synctest.Wait()
		if tokenFree(rt) {
			t.Fatal("the stand-in is not reading after the last reader left")
		}
		feed <- struct{}{}
		synctest.Wait()
		if n := reads.Load(); n != 1 {
			t.Fatalf("%d reads, want 1", n)
		}

		rt.join()
		feed <- struct{}{} // the read under way ends; the next waits for a reader to leave
		synctest.Wait()
		if n := reads.Load(); n != 2 {
			t.Fatalf("%d reads, want 2", n)
		}
		if !tokenFree(rt) {
			t.Fatal("the stand-in kept the token after a reader joined")
		}

		rt.close() // returns once the stand-in has
	})
}

// tokenFree reports whether the token can be taken now, and gives it back.
func tokenFree(rt *readToken) bool {
	select {
	case <-rt.take():
		rt.give()
		return true
	default:
		return false
	}
}
