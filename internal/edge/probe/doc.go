// Package probe is the edge's path monitor: a small authenticated UDP probe
// protocol, the estimators built on its answers (smoothed RTT, percentiles,
// RFC 3550 jitter, windowed loss, an E-model MOS and a 0-100 score) and a
// BFD-like state machine (Up, Degraded, Down) per path.
//
// Probes travel between the same local WAN link and remote endpoint that a
// path's tunnel uses, so they see what the traffic sees. Each request carries
// a sequence number, a random nonce and the sender's timestamp; the peer's
// edge echoes them with its own receive and transmit timestamps. Every packet
// is 64 bytes and ends in a truncated HMAC-SHA256 under the path's key, and a
// reply only counts when it matches an outstanding request's sequence number
// and nonce, so an off-path sender can neither forge nor replay answers.
//
// Why the state machine is more than a miss counter: at 2% loss per
// direction about 4% of round trips fail, so "three misses in a row" happens
// about 0.64 times per 10,000 probes and a path would flap. A miss here is
// judged by its own deadline (so a 400 ms path is not Down merely because its
// answers arrive after the next probe has left), and a probe that is late
// starts a short burst of confirmation probes; Down needs the regular probe
// and the confirmation probes to fail together. A hard failure is still seen
// in about Interval x Multiplier, and random loss essentially never looks
// like one. Recovery needs a run of good probes and a hold-down. See
// docs/bench/probe.md for the arithmetic and the measured figures.
//
// Metrics are only ever measured: a path that has no answers is Down, never
// estimated. The pure parts (Estimator, Machine and the scheduler behind a
// Prober) take time as an argument so tests drive them without sockets; a
// Mux runs many Probers and the responder over one UDP socket per link.
package probe
