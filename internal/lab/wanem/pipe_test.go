package wanem

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// arrival is one packet a test pipe delivered.
type arrival struct {
	seq int
	at  time.Time
	n   int
}

// testPipe is a pipe whose deliveries are recorded; use it inside a
// synctest bubble, where time is exact.
type testPipe struct {
	*pipe
	mu  sync.Mutex
	got []arrival
}

var testAddr = netip.MustParseAddrPort("127.0.0.1:9")

func newTestPipe(t *testing.T, imp Impairment, seed uint64) *testPipe {
	t.Helper()
	if err := imp.Validate(); err != nil {
		t.Fatal(err)
	}
	tp := &testPipe{}
	tp.pipe = newPipe(seed, 7, false, func(pk *packet) bool {
		tp.mu.Lock()
		tp.got = append(tp.got, arrival{seq: int(binary.BigEndian.Uint64(pk.buf)), at: time.Now(), n: len(pk.buf)})
		tp.mu.Unlock()
		pk.free()
		return true
	})
	tp.update(func(Impairment) Impairment { return imp })
	t.Cleanup(tp.close)
	return tp
}

// send submits a packet of size bytes (at least 8) carrying seq.
func (tp *testPipe) send(seq, size int) {
	b := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(b, uint64(seq))
	tp.submit(newPacket(b, testAddr))
}

func (tp *testPipe) arrivals() []arrival {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]arrival(nil), tp.got...)
}

func seqs(as []arrival) []int {
	out := make([]int, len(as))
	for i, a := range as {
		out[i] = a.seq
	}
	return out
}

func TestPipeDelayIsExact(t *testing.T) {
	for _, d := range []time.Duration{0, 10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond} {
		t.Run(d.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tp := newTestPipe(t, Impairment{Delay: d}, 1)
				start := time.Now()
				for i := range 5 {
					tp.send(i, 100)
					time.Sleep(time.Millisecond)
				}
				time.Sleep(d + time.Millisecond)
				synctest.Wait()
				got := tp.arrivals()
				if len(got) != 5 {
					t.Fatalf("delivered %d packets, want 5", len(got))
				}
				for i, a := range got {
					want := start.Add(time.Duration(i)*time.Millisecond + d)
					if !a.at.Equal(want) || a.seq != i {
						t.Errorf("packet %d: seq %d at %v, want seq %d at %v", i, a.seq, a.at.Sub(start), i, want.Sub(start))
					}
				}
			})
		})
	}
}

func TestPipeJitterMatchesRFC3550(t *testing.T) {
	const (
		delay  = 50 * time.Millisecond
		jitter = 10 * time.Millisecond
		n      = 2000
		gap    = 100 * time.Millisecond // probe spacing: the FIFO clamp never binds
	)
	synctest.Test(t, func(t *testing.T) {
		tp := newTestPipe(t, Impairment{Delay: delay, Jitter: jitter}, 42)
		sent := make([]time.Time, n)
		for i := range n {
			sent[i] = time.Now()
			tp.send(i, 64)
			time.Sleep(gap)
		}
		synctest.Wait()
		got := tp.arrivals()
		if len(got) != n {
			t.Fatalf("delivered %d, want %d", len(got), n)
		}
		var sum, sumAbsDiff, j float64
		var prev float64
		for i, a := range got {
			transit := float64(a.at.Sub(sent[a.seq]))
			sum += transit
			if i > 0 {
				d := math.Abs(transit - prev)
				sumAbsDiff += d
				j += (d - j) / 16 // RFC 3550 section 6.4.1
			}
			prev = transit
		}
		mean := time.Duration(sum / n)
		meanAbsDiff := time.Duration(sumAbsDiff / (n - 1))
		t.Logf("mean delay %v, mean |D| %v, final RFC 3550 J %v", mean, meanAbsDiff, time.Duration(j))
		if d := mean - delay; d.Abs() > time.Millisecond {
			t.Errorf("mean delay %v, want %v ± 1ms", mean, delay)
		}
		// E|D| is what RFC 3550's J converges to; the seed is fixed, and
		// 2000 samples put it within a few percent.
		if r := float64(meanAbsDiff) / float64(jitter); r < 0.92 || r > 1.08 {
			t.Errorf("mean |D| = %v, want %v ± 8%%", meanAbsDiff, jitter)
		}
	})
}

func TestPipeKeepsOrderUnderJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp := newTestPipe(t, Impairment{Delay: 20 * time.Millisecond, Jitter: 15 * time.Millisecond}, 3)
		for i := range 500 {
			tp.send(i, 64)
			time.Sleep(time.Millisecond) // far closer than the jitter
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got := tp.arrivals()
		want := make([]int, 500)
		for i := range want {
			want[i] = i
		}
		if diff := cmp.Diff(want, seqs(got)); diff != "" {
			t.Errorf("delivery order (-want +got):\n%s", diff)
		}
		for i := 1; i < len(got); i++ {
			if got[i].at.Before(got[i-1].at) {
				t.Fatalf("packet %d released before packet %d", got[i].seq, got[i-1].seq)
			}
		}
	})
}

func TestPipeRandomLoss(t *testing.T) {
	const n = 20000
	for _, loss := range []float64{0, 0.01, 0.05, 0.2, 1} {
		t.Run(FormatPercent(loss), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tp := newTestPipe(t, Impairment{Loss: loss}, 99)
				for i := range n {
					tp.send(i, 64)
				}
				synctest.Wait()
				st := tp.stats.snapshot()
				measured := float64(st.DroppedLoss) / n
				// Four standard deviations of a binomial count.
				tol := 4 * math.Sqrt(loss*(1-loss)/n)
				if math.Abs(measured-loss) > tol {
					t.Errorf("measured loss %.3f%%, want %.3f%% ± %.3f%%", measured*100, loss*100, tol*100)
				}
				if got := len(tp.arrivals()); uint64(got) != n-st.DroppedLoss || st.Delivered != uint64(got) {
					t.Errorf("delivered %d (counted %d), dropped %d of %d", got, st.Delivered, st.DroppedLoss, n)
				}
			})
		})
	}
}

// lossBursts returns the mean length of runs of consecutive lost packets
// and the loss ratio, given which of 0..n-1 arrived.
func lossBursts(as []arrival, n int) (meanBurst, ratio float64) {
	arrived := make([]bool, n)
	for _, a := range as {
		arrived[a.seq] = true
	}
	var lost, bursts, run int
	for _, ok := range arrived {
		if !ok {
			lost++
			run++
			continue
		}
		if run > 0 {
			bursts++
		}
		run = 0
	}
	if run > 0 {
		bursts++
	}
	if bursts == 0 {
		return 0, 0
	}
	return float64(lost) / float64(bursts), float64(lost) / float64(n)
}

func TestPipeGilbertElliottIsBursty(t *testing.T) {
	const n = 20000
	ge := &GilbertElliott{P: 0.01, R: 0.25, LossBad: 1}
	synctest.Test(t, func(t *testing.T) {
		bursty := newTestPipe(t, Impairment{Burst: ge}, 5)
		random := newTestPipe(t, Impairment{Loss: ge.MeanLoss()}, 5)
		for i := range n {
			bursty.send(i, 64)
			random.send(i, 64)
		}
		synctest.Wait()
		burst, ratio := lossBursts(bursty.arrivals(), n)
		rburst, rratio := lossBursts(random.arrivals(), n)
		t.Logf("Gilbert-Elliott: loss %.2f%% mean burst %.2f; random: loss %.2f%% mean burst %.2f", ratio*100, burst, rratio*100, rburst)
		if math.Abs(ratio-ge.MeanLoss()) > 0.01 {
			t.Errorf("bursty loss %.2f%%, want %.2f%% ± 1%%", ratio*100, ge.MeanLoss()*100)
		}
		// Bad-state runs last 1/R = 4 packets on average.
		if burst < 3.2 || burst > 4.8 {
			t.Errorf("mean burst %.2f packets, want 4 ± 20%%", burst)
		}
		if rburst > 1.2 {
			t.Errorf("random loss mean burst %.2f, want about 1", rburst)
		}
		if got := bursty.stats.snapshot().DroppedBurst; got != uint64(math.Round(ratio*n)) {
			t.Errorf("DroppedBurst = %d, want %d", got, int(ratio*n))
		}
	})
}

func TestPipeDuplicates(t *testing.T) {
	const n = 10000
	synctest.Test(t, func(t *testing.T) {
		tp := newTestPipe(t, Impairment{Duplicate: 0.1, Delay: time.Millisecond}, 11)
		for i := range n {
			tp.send(i, 64)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		got := tp.arrivals()
		st := tp.stats.snapshot()
		if len(got) != n+int(st.Duplicated) {
			t.Fatalf("delivered %d, want %d + %d copies", len(got), n, st.Duplicated)
		}
		if math.Abs(float64(st.Duplicated)/n-0.1) > 4*math.Sqrt(0.1*0.9/n) {
			t.Errorf("duplicated %d of %d, want about 10%%", st.Duplicated, n)
		}
		// A copy follows its original, and order is otherwise kept.
		var dups int
		for i := 1; i < len(got); i++ {
			switch {
			case got[i].seq == got[i-1].seq:
				dups++
			case got[i].seq != got[i-1].seq+1:
				t.Fatalf("seq %d after %d", got[i].seq, got[i-1].seq)
			}
		}
		if dups != int(st.Duplicated) {
			t.Errorf("found %d adjacent copies, counted %d", dups, st.Duplicated)
		}
	})
}

func TestPipeReorders(t *testing.T) {
	const n = 1000
	synctest.Test(t, func(t *testing.T) {
		tp := newTestPipe(t, Impairment{Delay: 10 * time.Millisecond, Reorder: 0.25}, 13)
		sent := make([]time.Time, n)
		for i := range n {
			sent[i] = time.Now()
			tp.send(i, 64)
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		got := tp.arrivals()
		if len(got) != n {
			t.Fatalf("delivered %d, want %d", len(got), n)
		}
		st := tp.stats.snapshot()
		var early, overtakes int
		maxSeq := -1
		for _, a := range got {
			switch a.at.Sub(sent[a.seq]) {
			case 0:
				early++
			case 10 * time.Millisecond:
			default:
				t.Fatalf("packet %d took %v, want 0 or 10ms", a.seq, a.at.Sub(sent[a.seq]))
			}
			if a.seq < maxSeq {
				overtakes++ // something sent after it arrived first
			}
			maxSeq = max(maxSeq, a.seq)
		}
		if early != int(st.Reordered) {
			t.Errorf("%d packets skipped the delay, counted %d", early, st.Reordered)
		}
		if r := float64(early) / n; math.Abs(r-0.25) > 4*math.Sqrt(0.25*0.75/n) {
			t.Errorf("%.1f%% reordered, want about 25%%", r*100)
		}
		if overtakes == 0 {
			t.Error("no packet was overtaken")
		}
	})
}

func TestPipeRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 1222 bytes of payload + 28 of headers = 10,000 bits = 10ms at 1 Mbit/s.
		tp := newTestPipe(t, Impairment{RateBps: 1_000_000, QueueBytes: 3000, Delay: 5 * time.Millisecond}, 17)
		start := time.Now()
		for i := range 4 {
			tp.send(i, 1222)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got := tp.arrivals()
		// The queue holds 3000 bytes: the packet being sent and one more;
		// the rest are tail-dropped.
		want := []arrival{
			{seq: 0, at: start.Add(15 * time.Millisecond), n: 1222},
			{seq: 1, at: start.Add(25 * time.Millisecond), n: 1222},
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(arrival{})); diff != "" {
			t.Errorf("arrivals (-want +got):\n%s", diff)
		}
		if st := tp.stats.snapshot(); st.DroppedQueue != 2 {
			t.Errorf("DroppedQueue = %d, want 2", st.DroppedQueue)
		}
	})
}

func TestPipeRateThroughput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate = 10_000_000
		tp := newTestPipe(t, Impairment{RateBps: rate}, 19)
		// Offer twice the rate for a second, in 1ms slices.
		start := time.Now()
		for i := range 1000 {
			for j := range 2 {
				tp.send(2*i+j, 1222) // 2 × 10,000 bits per ms = 20 Mbit/s
			}
			time.Sleep(time.Millisecond)
		}
		synctest.Wait()
		st := tp.stats.snapshot()
		elapsed := time.Since(start)
		bits := float64(st.DeliveredBytes+st.Delivered*ipUDPOverhead) * 8
		got := bits / elapsed.Seconds()
		if math.Abs(got-rate)/rate > 0.02 {
			t.Errorf("throughput %.2f Mbit/s, want 10 ± 2%%", got/1e6)
		}
		if st.DroppedQueue == 0 {
			t.Error("no tail drop at twice the rate")
		}
	})
}

func TestPipeDownDropsInFlightAndUpRestores(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp := newTestPipe(t, Impairment{Delay: 10 * time.Millisecond}, 23)
		tp.send(0, 64)
		tp.send(1, 64)
		time.Sleep(5 * time.Millisecond)
		tp.update(func(imp Impairment) Impairment { imp.Down = true; return imp })
		tp.send(2, 64)
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		if got := tp.arrivals(); len(got) != 0 {
			t.Fatalf("a down link delivered %v", seqs(got))
		}
		tp.update(func(imp Impairment) Impairment { imp.Down = false; return imp })
		tp.send(3, 64)
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		if diff := cmp.Diff([]int{3}, seqs(tp.arrivals())); diff != "" {
			t.Errorf("after up (-want +got):\n%s", diff)
		}
		if st := tp.stats.snapshot(); st.DroppedDown != 3 || st.Offered != 4 {
			t.Errorf("stats %+v, want 3 dropped down of 4", st)
		}
	})
}

func TestPipeSeedRepeats(t *testing.T) {
	run := func() []int {
		var out []int
		synctest.Test(t, func(t *testing.T) {
			tp := newTestPipe(t, Impairment{Loss: 0.3, Duplicate: 0.1}, 77)
			for i := range 200 {
				tp.send(i, 64)
			}
			synctest.Wait()
			out = seqs(tp.arrivals())
		})
		return out
	}
	if diff := cmp.Diff(run(), run()); diff != "" {
		t.Errorf("same seed, different fates (-first +second):\n%s", diff)
	}
}

func TestPipeEvenLoss(t *testing.T) {
	const n = 2000
	other := netip.MustParseAddrPort("127.0.0.1:10")
	for _, loss := range []float64{0.01, 0.05, 0.2, 0.023} {
		t.Run(FormatPercent(loss), func(t *testing.T) {
			for seed := range uint64(10) {
				synctest.Test(t, func(t *testing.T) {
					var mu sync.Mutex
					got := map[netip.AddrPort][]int{}
					p := newPipe(seed, 1, false, func(pk *packet) bool {
						mu.Lock()
						got[pk.addr] = append(got[pk.addr], int(binary.BigEndian.Uint64(pk.buf)))
						mu.Unlock()
						pk.free()
						return true
					})
					defer p.close()
					p.update(func(Impairment) Impairment { return Impairment{Loss: loss, EvenLoss: true} })
					// Two paths share the direction, interleaved unevenly:
					// each must see the loss on its own.
					b := make([]byte, 8)
					for i := range n {
						binary.BigEndian.PutUint64(b, uint64(i))
						p.submit(newPacket(b, testAddr))
						if i%3 == 0 {
							p.submit(newPacket(b, other))
						}
					}
					synctest.Wait()
					measured := 1 - float64(len(got[testAddr]))/n
					// 20 runs of 100: the only error is the carried fraction.
					if math.Abs(measured-loss) > 1.0/n {
						t.Errorf("seed %d: measured %.3f%%, want %.3f%%", seed, measured*100, loss*100)
					}
					if len(got[other]) == 0 {
						t.Error("the other address got nothing")
					}
					// The drops fall in different places in different runs.
					patterns := map[string]bool{}
					arrived := make([]bool, n)
					for _, s := range got[testAddr] {
						arrived[s] = true
					}
					for run := 0; run < n; run += EvenLossBlock {
						patterns[fmt.Sprint(arrived[run:run+EvenLossBlock])] = true
					}
					if len(patterns) < 10 {
						t.Errorf("seed %d: only %d distinct loss patterns in %d runs", seed, len(patterns), n/EvenLossBlock)
					}
				})
			}
		})
	}
}
