package wanem

import (
	"syscall"
	"time"
)

// sleepPrecisely blocks the calling thread in nanosleep(2) for d. Go's
// timers wake a process whose goroutines are all idle through
// epoll_wait, whose timeout is in whole milliseconds, so a timer with a
// fractional millisecond left fires up to a millisecond late (0.8 ms on
// average on the lab machine); nanosleep wakes within the kernel's timer
// slack, 50 µs by default. It is used only for the last stretch of a wait,
// so the blocked thread is short-lived.
func sleepPrecisely(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var left syscall.Timespec
		err := syscall.Nanosleep(&ts, &left)
		if err != syscall.EINTR {
			return
		}
		ts = left // a signal (the Go runtime's preemption) cut it short
	}
}
