package wanem

import "time"

// alarm wakes a pipe's release goroutine at the time it was last armed
// for. It arms two clocks for the same instant and takes whichever rings
// first, because neither is precise on its own:
//
//   - A Go timer is checked whenever the scheduler runs, so it is on time
//     in a busy process; but when every goroutine is idle the runtime
//     sleeps in epoll_wait, whose timeout is whole milliseconds, and the
//     timer fires up to a millisecond late (0.8 ms on average on the lab
//     machine: a fractional millisecond is rounded up).
//   - A timerfd (Linux) makes the epoll_wait return on an event the moment
//     it expires, so it is on time in an idle process; but in a busy one
//     the scheduler polls the network only when it runs out of work.
//
// Spurious rings are harmless: the release goroutine looks at the clock and
// the heap each time it wakes.
type alarm struct {
	c     chan struct{} // holds at most one ring
	timer *time.Timer
	fd    *fdTimer // nil without timerfd, and in tests run in a synctest bubble
}

// newAlarm returns an alarm; precise adds the timerfd where there is one.
func newAlarm(precise bool) *alarm {
	a := &alarm{c: make(chan struct{}, 1)}
	a.timer = time.AfterFunc(time.Hour, a.ring)
	a.timer.Stop()
	if precise {
		a.fd = newFDTimer(a.ring) // nil if unavailable: the Go timer alone will do
	}
	return a
}

func (a *alarm) ring() {
	select {
	case a.c <- struct{}{}:
	default:
	}
}

// arm makes the alarm ring after d, or now if d is not positive, replacing
// any earlier arming.
func (a *alarm) arm(d time.Duration) {
	if d <= 0 {
		a.timer.Stop()
		a.ring()
		return
	}
	a.timer.Reset(d)
	if a.fd != nil {
		a.fd.arm(d)
	}
}

// disarm stops the alarm from ringing; a ring already given stays.
func (a *alarm) disarm() {
	a.timer.Stop()
	if a.fd != nil {
		a.fd.arm(0)
	}
}

// wait blocks until the alarm rings.
func (a *alarm) wait() { <-a.c }

// close releases the alarm's resources and waits for its goroutine.
func (a *alarm) close() {
	a.timer.Stop()
	if a.fd != nil {
		a.fd.close()
	}
}
