// Package lab runs a whole SD-WAN on one machine: a controller, N sites
// each with an edge and K emulated WAN links (package wanem), the sites,
// links, full-mesh paths and credentials in the controller's store, and an
// admin user. It is the newcomer's demo (patronus demo), the lab command
// (patronus lab) and the end-to-end harness whose scenario tests measure
// the path monitor's accuracy, detection time, stability, overhead and
// scale through the real stack: edges, probes, loopback UDP and the
// emulator, with metrics flowing to the controller's store.
//
// Everything runs rootless in one process. (As root, Config.NetNS makes
// each site's LAN a network namespace with a kernel TUN instead of a
// netstack, so the kernel's own sockets and programs run on a site.) The
// edges talk to the controller over HTTP on loopback, exactly as a remote
// edge would; only their WAN sockets are the emulated links' in-process
// sockets, so that impairments apply to them. The lab's control (link
// impairments, a path listing) is served under /api/v1/lab/ on the
// controller's listener.
package lab
