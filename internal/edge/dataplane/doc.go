// Package dataplane is the edge's data plane: it carries the site's
// traffic over per-path WireGuard tunnels, choosing a path per flow by the
// routing policies and moving flows when a path fails.
//
// # Tunnels
//
// Every path (a local WAN link to one remote site's endpoint) is its own
// genuine WireGuard device from golang.zx2c4.com/wireguard, configured with
// IpcSet, so each path has its own handshake and session and a stock
// WireGuard peer can talk to one path. The devices do not own sockets: the
// socket of a link is shared by every path leaving that link through a
// demultiplexer that routes datagrams by their source endpoint to the
// path's conn.Bind, and probe packets (magic "PR") to the path monitor
// (Engine.ProbeConn), so that the probes cross exactly what the tunnels
// cross. On Linux a link that is a *net.UDPConn uses UDP GSO and GRO, as
// the stock wireguard-go bind does, which is what lets a tunnel keep pace
// with plain wireguard-go. A device's inner side is not a kernel TUN but a
// tun.Device that is a view of the site device.
//
// The shared devices are read by the path devices' own goroutines, not by
// a reader of the engine's: a path device that has nothing queued reads
// the site device (or its link's socket) itself, keeps what is its own and
// queues the rest for the other paths, under a read token that keeps each
// path's packets in the order they were read. So a flow's packets go from
// the site device through classification and encryption to the socket, and
// back, in the goroutines plain wireguard-go would use, without a hand-off
// between goroutines. The engine's and the link's own readers stand in
// only while no path device is reading.
//
// # Packets
//
// The engine reads the site's packets from one tun.Device — a kernel TUN as
// root, or a gVisor netstack rootless — parses each (package packet),
// classifies it (package classify: policies in priority order, first match,
// a sticky per-flow decision), counts it against its policy (package stats;
// unmatched traffic is policy 0), and hands it to the chosen path's
// device, a batch at a time. Packets that any path decrypts are written back
// to the site device only when addressed to the site's own prefixes: the
// edge routes only what the controller assigned.
//
// # Decisions
//
// The engine's control side (Set, UpdatePath, Force, ClearForce) keeps the
// path states and recomputes, for every (policy, remote site) pair, the path
// new flows take and the paths established flows may stay on, and publishes
// them as an immutable table the packet path reads without a lock. A flow
// leaves its path at once when the path goes Down or breaks its policy's
// SLA, and comes back to a recovered path only after the hold-down (or
// never, with FailbackNever). Every move is an Event with its reason.
package dataplane
