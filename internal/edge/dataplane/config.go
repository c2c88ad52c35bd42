package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// Config is the data plane's desired state, as the controller describes it
// to the edge. Engine.Set applies it and is safe to repeat.
type Config struct {
	// PrivateKey is the site's WireGuard private key; every path uses it.
	PrivateKey Key
	// Prefixes are the site's own prefixes, assigned by the controller:
	// decrypted packets are delivered to the site only when addressed to
	// one of them.
	Prefixes []netip.Prefix
	// Links are the site's WAN links.
	Links []Link
	// Peers are the remote sites.
	Peers []Peer
	// Paths are this site's paths: each is one local link to one remote
	// site's endpoint, and one WireGuard tunnel.
	Paths []Path
	// Policies are the routing policies; disabled ones are ignored.
	// Unmatched traffic takes the best-quality path.
	Policies []sdwan.Policy
	// HoldDown is how long a path that recovered (from Down, or from
	// breaking a policy's SLA) must stay good before it takes traffic
	// again. Zero means DefaultHoldDown.
	HoldDown time.Duration
	// Failback says whether flows moved off a path move back to it once
	// it has recovered and the hold-down has passed.
	Failback Failback
	// Keepalive is WireGuard's persistent keepalive on every path, which
	// keeps NAT mappings and the backup paths' sessions warm; zero means
	// DefaultKeepalive, negative turns it off.
	Keepalive time.Duration
}

// Link is one WAN link of the site.
type Link struct {
	// Name is the link's name, such as "wan1".
	Name string
	// Conn is the link's socket. The engine owns it from the first Set
	// that names it and closes it when the link goes or the engine closes;
	// giving a link a different Conn replaces the link and its tunnels.
	Conn PacketConn
	// CostPerGB is what traffic on the link costs, for PreferCost.
	CostPerGB float64
}

// Peer is a remote site.
type Peer struct {
	// ID identifies the site.
	ID string
	// PublicKey is its WireGuard public key.
	PublicKey Key
	// Prefixes are the prefixes assigned to it: traffic to them goes to
	// this peer, and a tunnel to it accepts packets from them only.
	Prefixes []netip.Prefix
}

// Path is one path from a local link to a remote site's endpoint.
type Path struct {
	// ID identifies the path (the controller's path ID).
	ID string
	// Link is the local link's name.
	Link string
	// Peer is the remote site's ID.
	Peer string
	// Remote is the remote endpoint's public address.
	Remote netip.AddrPort
}

// Failback is what happens to flows when the path they were moved off
// recovers.
type Failback uint8

const (
	// FailbackAfterHoldDown moves flows back once the recovered path has
	// been good for the hold-down.
	FailbackAfterHoldDown Failback = iota
	// FailbackNever leaves flows where failover put them (sticky flows);
	// the recovered path takes new flows after the hold-down.
	FailbackNever
)

// Defaults.
const (
	DefaultHoldDown  = 5 * time.Second
	DefaultKeepalive = 25 * time.Second
)

// maxPaths bounds the paths of one site, so a path fits the flow table's
// 16-bit handle.
const maxPaths = 1 << 14

// ErrUnknownPath is returned for a path ID the configuration does not have.
var ErrUnknownPath = errors.New("dataplane: unknown path")

// validate checks the configuration's references.
func (c *Config) validate() error {
	if c.PrivateKey.IsZero() {
		return errors.New("dataplane: config has no private key")
	}
	links := map[string]bool{}
	for _, l := range c.Links {
		if l.Name == "" || l.Conn == nil {
			return fmt.Errorf("dataplane: link %q needs a name and a conn", l.Name)
		}
		if links[l.Name] {
			return fmt.Errorf("dataplane: link %q given twice", l.Name)
		}
		links[l.Name] = true
	}
	peers := map[string]bool{}
	for _, p := range c.Peers {
		if p.ID == "" || p.PublicKey.IsZero() {
			return fmt.Errorf("dataplane: peer %q needs an ID and a public key", p.ID)
		}
		if peers[p.ID] {
			return fmt.Errorf("dataplane: peer %q given twice", p.ID)
		}
		peers[p.ID] = true
	}
	if len(c.Paths) > maxPaths {
		return fmt.Errorf("dataplane: %d paths, at most %d", len(c.Paths), maxPaths)
	}
	paths := map[string]bool{}
	ends := map[[2]string]bool{}
	for _, p := range c.Paths {
		switch {
		case p.ID == "" || paths[p.ID]:
			return fmt.Errorf("dataplane: path ID %q missing or given twice", p.ID)
		case !links[p.Link]:
			return fmt.Errorf("dataplane: path %s: no link %q", p.ID, p.Link)
		case !peers[p.Peer]:
			return fmt.Errorf("dataplane: path %s: no peer %q", p.ID, p.Peer)
		case !p.Remote.IsValid():
			return fmt.Errorf("dataplane: path %s: no remote endpoint", p.ID)
		}
		// The link routes datagrams to paths by their source, so two paths
		// of one link cannot share a remote endpoint.
		end := [2]string{p.Link, p.Remote.String()}
		if ends[end] {
			return fmt.Errorf("dataplane: path %s: link %s already has a path to %v", p.ID, p.Link, p.Remote)
		}
		paths[p.ID], ends[end] = true, true
	}
	for i := range c.Policies {
		if err := c.Policies[i].Action.Validate(); err != nil {
			return fmt.Errorf("dataplane: policy %d: %w", c.Policies[i].ID, err)
		}
	}
	return nil
}
