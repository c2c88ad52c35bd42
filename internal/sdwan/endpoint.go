package sdwan

import (
	"math"
	"net/netip"
	"strings"
	"time"
)

// LinkKind is the kind of WAN link an endpoint is.
type LinkKind string

// Link kinds.
const (
	LinkFibre     LinkKind = "fibre"
	LinkBroadband LinkKind = "broadband"
	LinkLTE       LinkKind = "lte"
	LinkOther     LinkKind = "other"
)

// ParseLinkKind parses a link kind, case-insensitively; "fiber" is accepted
// as a spelling of "fibre".
func ParseLinkKind(field, s string) (LinkKind, error) {
	k := LinkKind(strings.ToLower(strings.TrimSpace(s)))
	switch k {
	case "fiber":
		return LinkFibre, nil
	case LinkFibre, LinkBroadband, LinkLTE, LinkOther:
		return k, nil
	}
	return "", fieldErr(field, s, "must be one of fibre, broadband, lte, other")
}

// Endpoint is one WAN link of a site: where its tunnels and probes leave
// from and where peers reach it.
type Endpoint struct {
	ID     string // UUID
	SiteID string
	Name   string // unique within the site, such as "wan1"
	// Address is the public ip:port peers send to.
	Address netip.AddrPort
	// Interface is the local interface the link's sockets bind to, if any.
	Interface     string
	Kind          LinkKind
	CostPerGB     float64
	BandwidthMbps float64
	Reachable     bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Validate checks the endpoint's fields, naming the first bad one.
func (e *Endpoint) Validate() error {
	if e.SiteID == "" {
		return fieldErr("endpoint.siteId", "", "is required")
	}
	if err := ValidateName("endpoint.name", e.Name); err != nil {
		return err
	}
	if !e.Address.IsValid() || e.Address.Port() == 0 {
		return fieldErr("endpoint.address", e.Address.String(), "must be an ip:port with a non-zero port")
	}
	if len(e.Interface) > 15 || strings.ContainsAny(e.Interface, " /\x00") {
		return fieldErr("endpoint.interface", e.Interface, "is not a valid interface name (at most 15 characters, no spaces or '/')")
	}
	if e.Kind == "" {
		e.Kind = LinkOther
	}
	if _, err := ParseLinkKind("endpoint.kind", string(e.Kind)); err != nil {
		return err
	}
	if e.CostPerGB < 0 || math.IsNaN(e.CostPerGB) || math.IsInf(e.CostPerGB, 0) {
		return fieldErr("endpoint.costPerGb", formatFloat(e.CostPerGB), "must be zero or more")
	}
	if e.BandwidthMbps < 0 || math.IsNaN(e.BandwidthMbps) || math.IsInf(e.BandwidthMbps, 0) {
		return fieldErr("endpoint.bandwidthMbps", formatFloat(e.BandwidthMbps), "must be zero or more")
	}
	return nil
}

// ParseAddrPort parses "ip:port" for the named field.
func ParseAddrPort(field, s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(strings.TrimSpace(s))
	if err != nil || ap.Port() == 0 {
		return netip.AddrPort{}, fieldErr(field, s, "must be an ip:port such as 203.0.113.7:51820 or [2001:db8::7]:51820")
	}
	return ap, nil
}
