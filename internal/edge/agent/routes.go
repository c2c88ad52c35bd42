package agent

import (
	"fmt"
	"net/netip"

	"github.com/patronus-sdwan/patronus/internal/edge/dataplane"
)

// SiteRoutes gives the site device what the host needs to send the site's
// traffic into it: the site's address and a route to each peer prefix.
// route.Manager is the kernel's.
type SiteRoutes interface {
	// Set makes addr the device's address (none when invalid) and routes
	// its routes, adding what is missing and removing what it added
	// before that is no longer wanted, and nothing else. It is safe to
	// repeat; what fails is retried by the next Set.
	Set(addr netip.Prefix, routes []netip.Prefix) error
	// Close removes what Set added. The agent calls it once, before it
	// closes the engine and with it the device.
	Close() error
}

// SiteAddress returns the site's own address on its device: the first
// host of its first prefix, with that prefix's length (the prefix's only
// address for a /32 or /128). It is invalid when the site has no prefix.
func SiteAddress(prefixes []netip.Prefix) netip.Prefix {
	if len(prefixes) == 0 || !prefixes[0].IsValid() {
		return netip.Prefix{}
	}
	p := prefixes[0].Masked()
	host := p.Addr()
	if p.Bits() < host.BitLen() {
		host = host.Next()
	}
	return netip.PrefixFrom(host, p.Bits())
}

// setRoutesLocked reconciles the site device's address and routes to the
// configuration given to the engine: the peers with a key and their
// prefixes, so the host routes what the data plane can carry and nothing
// else.
func (a *Agent) setRoutesLocked(dc dataplane.Config) error {
	r := a.dp.cfg.Routes
	if r == nil {
		return nil
	}
	var dst []netip.Prefix
	for _, p := range dc.Peers {
		dst = append(dst, p.Prefixes...)
	}
	if err := r.Set(SiteAddress(dc.Prefixes), dst); err != nil {
		return fmt.Errorf("agent: site routes: %w", err)
	}
	return nil
}

// closeRoutesLocked removes the site device's address and routes.
func (a *Agent) closeRoutesLocked() {
	if a.dp == nil || a.dp.cfg.Routes == nil || a.dp.engine == nil {
		return
	}
	if err := a.dp.cfg.Routes.Close(); err != nil {
		a.log.Warn("remove the site's routes", "err", err)
	}
}
