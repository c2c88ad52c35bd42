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
		rt.startStandIn(func() readResult {
			<-feed
			reads.Add(1)
			return readOthers
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

		if tokenFree(rt) {
			t.Fatal("the stand-in gave the token back between reads")
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

// TestTakeTurn checks a reader's turn: what was queued for it first; else
// reads, holding the token, until one brings its own packets, the reader
// is done, or the device is closed.
func TestTakeTurn(t *testing.T) {
	for _, tc := range []struct {
		name     string
		queued   bool
		done     bool
		results  []readResult
		wantOK   bool
		wantFree bool // the token is given back
	}{
		{"queued first", true, false, nil, true, true},
		{"others, then its own", false, false, []readResult{readOthers, readOthers, readMine}, true, true},
		{"done after reading others", false, true, []readResult{readOthers}, false, true},
		{"closed", false, false, []readResult{readOthers, readClosed}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := newReadToken()
			<-rt.take()
			queued := make(chan int, 1)
			if tc.queued {
				queued <- -1
			}
			done := make(chan struct{})
			if tc.done {
				close(done)
			}
			reads := 0
			v, ok := takeTurn(rt, queued, done, func() (int, readResult) {
				if tokenFree(rt) {
					t.Error("the token was given back before the reader's own packets")
				}
				reads++
				return reads, tc.results[reads-1]
			})
			if ok != tc.wantOK || reads != len(tc.results) {
				t.Errorf("got %d, %v after %d reads; want ok %v after %d", v, ok, reads, tc.wantOK, len(tc.results))
			}
			if tc.queued && v != -1 {
				t.Errorf("got %d, want the queued -1", v)
			}
			if free := tokenFree(rt); free != tc.wantFree {
				t.Errorf("token given back: %v, want %v", free, tc.wantFree)
			}
		})
	}
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
