// Package wanem is the lab's userspace WAN emulator: it stands between the
// lab's sites the way netem stands between hosts, because the lab runs
// rootless and these machines have no netem qdisc anyway.
//
// Each emulated WAN link of a site is a [Link]. A Link owns a real UDP socket
// on loopback, its public address, which is what every other site sees as
// "site-N/wanK". The site's edge runs in the same process and uses
// [Link.Conn] as that link's socket: datagrams it writes go through the
// link's outbound impairment and then leave the public socket towards their
// destination; datagrams arriving on the public socket go through the inbound
// impairment and are then returned by [Conn.ReadFrom]. Traffic between sites
// is therefore genuine loopback UDP, and a path from site A's link to site B's
// link sees A's outbound and B's inbound impairments.
//
// # Impairments
//
// An [Impairment] is applied per direction ([Out] leaves the site, [In]
// arrives at it) and can change at any moment while traffic flows. Each
// datagram offered to a direction goes through these steps, in this order:
//
//  1. Down: a down link drops everything, including what is in flight when
//     it goes down.
//  2. Random loss: dropped with probability Loss (independent per packet).
//  3. Bursty loss: the Gilbert-Elliott chain steps once, then the packet is
//     dropped with the loss probability of the new state.
//  4. Duplication: with probability Duplicate a second copy follows the
//     packet through the remaining steps.
//  5. Rate: with a rate set, the packet is serialised behind the packets
//     before it (size×8/rate each, like netem's rate or a real bottleneck),
//     and dropped at the tail when the backlog would exceed QueueBytes.
//  6. Delay and jitter: the packet is released Delay + X after it leaves the
//     rate stage, where X is normal with mean 0 (see Jitter below), clamped
//     so that the delay is never negative.
//  7. Order: packets leave in the order they arrived (a release time earlier
//     than the previous packet's is raised to it, as on a real link), except
//     that with probability Reorder a packet skips the delay and jitter
//     altogether, like netem's reorder, and so overtakes whatever is still
//     in the delay line.
//
// Loss figures are per direction. Setting Loss L on both directions of one
// link makes a probe round trip through that link fail with probability
// 1-(1-L)², about 2L for small L (3.96% for 2%). To inject a round-trip
// loss of L, set it on one direction only.
//
// Delay is one-way: Delay D on both directions adds 2D to a round trip.
//
// Jitter J is scaled so that the RFC 3550 interarrival jitter measured over
// that one direction converges to J. The delay variation X is normal with
// standard deviation σ = J·√π/2 ≈ 0.886·J, and for independent variations
// RFC 3550's estimator converges to E|X₁-X₂| = 2σ/√π = J. Because sums of
// normal variables are normal, jitter J on both directions of a round trip
// gives an RTT jitter of √2·J; jitter on one direction gives J. Two things
// bend the distribution and are documented rather than hidden: the delay is
// clamped at zero (keep Delay ≥ 3σ for the figure to hold), and the FIFO
// order raises a packet's release to its predecessor's (keep the spacing of
// the packets measured large against σ, as probes are).
//
// # Precision
//
// Each direction releases its packets from one goroutine with a heap, so
// the order is exact. The goroutine sleeps until the next release on an
// alarm that arms two clocks for the same instant, a Go timer and (on
// Linux) a timerfd read through the netpoller, because neither is on time
// alone: when every goroutine is idle the Go runtime sleeps in epoll_wait,
// whose timeout is whole milliseconds, so a Go timer fires up to a
// millisecond late, while the timerfd's expiry is an event that ends the
// epoll_wait at once; in a busy process the scheduler checks Go timers at
// every switch but polls the network only when it runs out of work. A
// packet that skips the delay line (Reorder) is sent from the writer's
// goroutine. What is left is the operating system's scheduling: on a
// loaded machine the whole process stalls for milliseconds now and then,
// and every packet due in a stall leaves late. [DirStats] counts how late
// the emulator released packets, so the lab can tell its own error from
// the rest; docs/bench/wanem.md has the measured figures.
//
// # Scenarios
//
// A [Scenario] is a timeline of impairment changes, read from JSON or YAML
// by [ParseScenario], and a [Player] plays it against the lab's links. The
// same partial [Change] type serves the scenario steps and the lab's
// "impair" control.
//
// The package uses the time package directly rather than an injected clock:
// its timers run inside testing/synctest bubbles, which is how the tests
// check delays and timelines exactly.
package wanem
