package probe_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/edge/probe"
)

var (
	scaleFor   = flag.Duration("probe.scale", 0, "run the 500-path scale scenario for this long (0 skips it)")
	scalePaths = flag.Int("probe.paths", 500, "paths in the scale scenario")
)

var scaleSecret = []byte("the scale scenario's shared secret")

// TestScale is the scale figure: one edge monitoring 500 paths at the
// default interval over loopback UDP, against a responder in a child
// process so that each side's CPU is measured apart. It is a measurement,
// not a check of speed, so it runs only when asked:
//
//	go test -run TestScale -probe.scale=30s ./internal/edge/probe/
func TestScale(t *testing.T) {
	if *scaleFor == 0 {
		t.Skip("scale scenario: pass -probe.scale=30s to run it")
	}
	n := *scalePaths
	child := exec.Command(os.Args[0], "-test.run=^TestScaleResponder$", "-probe.paths="+strconv.Itoa(n))
	child.Env = append(os.Environ(), "PROBE_SCALE_RESPONDER=1")
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("responder: %v", err)
	}
	remote, err := netip.ParseAddrPort(strings.TrimSpace(strings.TrimPrefix(line, "listening ")))
	if err != nil {
		t.Fatalf("responder said %q: %v", line, err)
	}

	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadBuffer(4 << 20)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	mux := probe.NewMux(conn, quiet, time.Now)
	var downs atomic.Int64
	probers := make([]*probe.Prober, n)
	for i := range n {
		id := uint32(i + 1)
		k, _ := probe.DeriveKey(scaleSecret, id)
		probers[i], err = mux.SetPath(probe.PathConfig{ID: id, Key: k, Remote: remote, OnTransition: func(tr probe.Transition, _ probe.Metrics) {
			if tr.From == probe.StateUp && tr.To == probe.StateDown {
				downs.Add(1)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(3 * time.Second) // come up and settle before measuring

	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	st0 := mux.Stats()
	time.Sleep(*scaleFor)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	wall := time.Since(start)
	st1 := mux.Stats()

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	var up, lost, late int
	var rttSum float64
	for _, p := range probers {
		m := p.Metrics()
		if m.State == probe.StateUp {
			up++
		}
		lost += int(m.Lost)
		late += int(m.Late)
		rttSum += m.LatencyMs
	}
	gs := runtime.NumGoroutine() - goroutines
	mux.Close()
	stdin.Close()
	if err := child.Wait(); err != nil {
		t.Fatalf("responder: %v", err)
	}
	childRU := child.ProcessState.SysUsage().(*syscall.Rusage)

	cpu := func(a, b *syscall.Rusage) time.Duration {
		return time.Duration(b.Utime.Nano()-a.Utime.Nano()) + time.Duration(b.Stime.Nano()-a.Stime.Nano())
	}
	proberCPU := cpu(&ru0, &ru1)
	sent := st1.Sent - st0.Sent
	t.Logf("paths %d, measured %v: %d up, %d Up->Down, %d lost, %d late, mean SRTT %.3f ms",
		n, wall.Round(time.Millisecond), up, downs.Load(), lost, late, rttSum/float64(n))
	t.Logf("prober side: %.0f probes/s sent, %.0f replies/s matched, CPU %v = %.1f%% of one core (%.2f µs per probe round trip)",
		float64(sent)/wall.Seconds(), float64(st1.Replies-st0.Replies)/wall.Seconds(),
		proberCPU.Round(time.Millisecond), 100*proberCPU.Seconds()/wall.Seconds(), float64(proberCPU.Microseconds())/float64(sent))
	t.Logf("responder (child, whole run incl. %v warm-up): CPU utime %v stime %v, maxrss %d KiB",
		3*time.Second, time.Duration(childRU.Utime.Nano()), time.Duration(childRU.Stime.Nano()), childRU.Maxrss)
	t.Logf("prober memory for %d paths: heap in use +%d KiB (%.1f KiB/path), %d goroutines (+%d), sys %d KiB",
		n, (int64(after.HeapInuse)-int64(before.HeapInuse))/1024,
		float64(int64(after.HeapInuse)-int64(before.HeapInuse))/1024/float64(n), runtime.NumGoroutine(), gs, after.Sys/1024)
	if up != n || downs.Load() != 0 {
		t.Errorf("%d of %d paths up, %d went down", up, n, downs.Load())
	}
}

// TestScaleResponder is TestScale's child process: the responder side.
func TestScaleResponder(t *testing.T) {
	if os.Getenv("PROBE_SCALE_RESPONDER") != "1" {
		t.Skip("the scale scenario's child process")
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadBuffer(4 << 20)
	mux := probe.NewMux(conn, quiet, time.Now)
	defer mux.Close()
	for i := range *scalePaths {
		id := uint32(i + 1)
		k, _ := probe.DeriveKey(scaleSecret, id)
		if err := mux.Respond(id, k); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("listening %v\n", conn.LocalAddr())
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
}
