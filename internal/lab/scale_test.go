package lab

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestScale runs one edge monitoring 500 paths at the default interval
// (site-1's 10 links to the 50 links of sites 2-6) and reports the CPU
// and memory of the whole process: that edge, the five edges answering
// its probes, the emulator relaying every packet of 60 links, and the
// controller storing 500 metrics a second. It only runs with -lab.long.
func TestScale(t *testing.T) {
	if !*long {
		t.Skip("a 40 s figure; run with -lab.long")
	}
	// The path monitor alone is the figure; with the data plane
	// every path is also a WireGuard device, which is measured beside it.
	t.Run("monitor", func(t *testing.T) { scaleRun(t, true) })
	t.Run("monitor+dataplane", func(t *testing.T) { scaleRun(t, false) })
}

func scaleRun(t *testing.T, noDataPlane bool) {
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := startLab(t, Config{Sites: 6, Links: 10, Seed: 19, NoDataPlane: noDataPlane,
		Mesh: func(src, dst LinkName) bool { return src.Site == "site-1" }})
	if got := l.PathCount(); got != 500 {
		t.Fatalf("paths = %d, want 500", got)
	}
	allUp(t, l, 60*time.Second)
	time.Sleep(5 * time.Second) // warm up: windows full, reports flowing
	var ru0, ru1 syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru0); err != nil {
		t.Fatal(err)
	}
	stats0, t0 := l.Agent("site-1").LinkStats(), time.Now()
	time.Sleep(30 * time.Second)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru1); err != nil {
		t.Fatal(err)
	}
	stats1, t1 := l.Agent("site-1").LinkStats(), time.Now()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	cpu := func(a, b syscall.Timeval) time.Duration {
		return time.Duration(b.Nano() - a.Nano())
	}
	user, sys := cpu(ru0.Utime, ru1.Utime), cpu(ru0.Stime, ru1.Stime)
	wall := t1.Sub(t0)
	var sent, replies uint64
	for name, s := range stats1 {
		sent += s.Sent - stats0[name].Sent
		replies += s.Replies - stats0[name].Replies
	}
	up := 0
	for _, p := range l.Agent("site-1").Paths() {
		if p.Metrics.State.String() == "up" {
			up++
		}
	}
	t.Logf("500 paths at 100 ms for %v: %.0f probes/s sent, %.0f replies/s matched, %d paths Up",
		wall.Round(time.Second), float64(sent)/wall.Seconds(), float64(replies)/wall.Seconds(), up)
	t.Logf("whole process CPU: user %v + sys %v = %.1f%% of one core", user.Round(time.Millisecond), sys.Round(time.Millisecond),
		100*float64(user+sys)/float64(wall))
	t.Logf("heap in use: %.1f MiB (+%.1f MiB over the empty process), goroutines %d, max RSS %.1f MiB",
		float64(after.HeapInuse)/(1<<20), float64(after.HeapInuse-before.HeapInuse)/(1<<20), runtime.NumGoroutine(), float64(ru1.Maxrss)/1024)
}
