// Package dataplane is the edge's data plane: it carries the site's
// traffic over per-path WireGuard tunnels, choosing a path per flow by the
// routing policies and moving flows when a path fails.
//
// Every path (a local WAN link to one remote site's endpoint) is its own
// genuine WireGuard device from golang.zx2c4.com/wireguard, configured with
// IpcSet, so each path has its own handshake and session and a stock
// WireGuard peer can talk to one path. The devices do not own sockets: a
// link's socket is shared by every path leaving that link through a
// demultiplexing conn.Bind that routes datagrams by their source endpoint,
// and probe packets (magic "PR") to the path monitor, so that the probes
// measure exactly what the tunnels cross. Their inner side is not a kernel
// TUN but an in-memory tun.Device fed by the engine.
//
// The engine reads the site's packets from one tun.Device — a kernel TUN as
// root, or a gVisor netstack rootless — classifies each by the policies
// (package classify), counts it against its policy (package stats), and
// queues it for the chosen path's device. Packets that any path decrypts are
// written back to the site device only when addressed to the site's own
// prefixes.
package dataplane
