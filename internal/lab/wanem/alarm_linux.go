package wanem

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fdTimer is a timerfd read through the Go netpoller: a goroutine blocks
// reading it (parked, holding no thread) and calls ring on each expiry.
type fdTimer struct {
	fd   int
	f    *os.File
	done chan struct{}
}

func newFDTimer(ring func()) *fdTimer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	t := &fdTimer{fd: fd, f: os.NewFile(uintptr(fd), "wanem-timerfd"), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		var buf [8]byte // the expiry count, which we do not need
		for {
			if _, err := t.f.Read(buf[:]); err != nil {
				return // closed
			}
			ring()
		}
	}()
	return t
}

// arm sets the timer to expire once after d; 0 disarms it. Setting it
// also clears an expiry not yet read, which is what we want: the release
// goroutine arms after looking at the heap.
func (t *fdTimer) arm(d time.Duration) {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	// It fails only for a bad fd or value; the Go timer still rings.
	_ = unix.TimerfdSettime(t.fd, 0, &spec, nil)
}

func (t *fdTimer) close() {
	t.f.Close()
	<-t.done
}
