// Package agent is the edge's control side: it signs in to the controller
// with its site credential, follows its site's desired configuration and
// reconciles the path monitor to it, reports path metrics every second and
// state changes at once, and runs the on-demand checks the controller asks
// for.
//
// Reconciling is idempotent (Apply with the configuration it already runs
// changes nothing: no socket is reopened, no prober restarted, no
// measurement lost), so the agent can apply whatever the controller sends,
// as often as it sends it. When the controller is unreachable the agent
// keeps probing on its last configuration, retries with capped exponential
// backoff and jitter, and on reconnect tells the controller which version
// it runs and resends the state of every path, which the controller
// ignores where it already agrees.
//
// Each WAN link is one socket (a probe.Mux) that carries the probes of
// every path leaving that link and answers the peers' probes arriving on
// it. Where the socket comes from is pluggable (LinkDialer): a real UDP
// socket bound to the link's address and interface, or in the lab an
// emulated link's in-process socket.
package agent
