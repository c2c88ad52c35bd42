package sdwan

import (
	"net/netip"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of ports, Lo <= Hi, both in 1-65535.
type PortRange struct{ Lo, Hi uint16 }

// Contains reports whether p lies in the range.
func (r PortRange) Contains(p uint16) bool { return p >= r.Lo && p <= r.Hi }

func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

// Match is what a policy selects: a packet matches when every non-empty
// criterion matches (an empty list or a zero protocol means "any").
type Match struct {
	SrcPrefixes []netip.Prefix
	DstPrefixes []netip.Prefix
	Protocol    uint8 // IP protocol number; 0 = any
	SrcPorts    []PortRange
	DstPorts    []PortRange
}

// protocolNames maps the names operators write to IP protocol numbers.
var protocolNames = map[string]uint8{
	"icmp": ProtoICMP, "tcp": ProtoTCP, "udp": ProtoUDP, "icmpv6": ProtoICMPv6,
	"ipv6-icmp": ProtoICMPv6, "gre": 47, "esp": 50, "ah": 51, "sctp": 132,
}

// ProtocolName returns the conventional name of an IP protocol number, or
// its decimal form, or "any" for 0.
func ProtocolName(p uint8) string {
	switch p {
	case 0:
		return "any"
	case ProtoICMP:
		return "icmp"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMPv6:
		return "icmpv6"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 132:
		return "sctp"
	}
	return strconv.Itoa(int(p))
}

// ParseProtocol parses a protocol by name ("tcp", "udp", "icmp", …), by
// number ("6"), or "any"/"" for any protocol (0).
func ParseProtocol(field, s string) (uint8, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" || t == "any" || t == "*" {
		return 0, nil
	}
	if p, ok := protocolNames[t]; ok {
		return p, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil {
		return 0, fieldErr(field, s, "is not a protocol name (tcp, udp, icmp, icmpv6, gre, esp, ah, sctp) or number 0-255")
	}
	if n < 0 || n > 255 {
		return 0, fieldErr(field, s, "is out of range 0-255")
	}
	return uint8(n), nil
}

// ParsePortRanges parses a comma-separated list of ports and ranges such as
// "80,443,8000-8080". An empty string means any port.
func ParsePortRanges(field, s string) ([]PortRange, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "any" || s == "*" {
		return nil, nil
	}
	var out []PortRange
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fieldErr(field, s, "has an empty item; write ports like 80,443,8000-8080")
		}
		lo, hi, isRange := strings.Cut(part, "-")
		l, err := parsePort(field, strings.TrimSpace(lo))
		if err != nil {
			return nil, err
		}
		h := l
		if isRange {
			if h, err = parsePort(field, strings.TrimSpace(hi)); err != nil {
				return nil, err
			}
			if h < l {
				return nil, fieldErr(field, part, "is a range whose end is below its start")
			}
		}
		out = append(out, PortRange{Lo: l, Hi: h})
	}
	return out, nil
}

func parsePort(field, s string) (uint16, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fieldErr(field, s, "is not a port number")
	}
	if n < 1 || n > 65535 {
		return 0, fieldErr(field, s, "is out of range 1-65535")
	}
	return uint16(n), nil
}

// FormatPortRanges is the inverse of ParsePortRanges ("" for any port).
func FormatPortRanges(rs []PortRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// ParsePrefixes parses a comma-separated list of IPv4 and IPv6 prefixes; a
// bare address is taken as a host prefix (/32 or /128). Host bits must be
// zero so that what is stored is what matches.
func ParsePrefixes(field, s string) ([]netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "any" || s == "*" {
		return nil, nil
	}
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		var p netip.Prefix
		if strings.Contains(part, "/") {
			var err error
			if p, err = netip.ParsePrefix(part); err != nil {
				return nil, fieldErr(field, part, "is not an IPv4 or IPv6 prefix such as 10.0.0.0/8 or 2001:db8::/32")
			}
		} else {
			a, err := netip.ParseAddr(part)
			if err != nil || a.Zone() != "" {
				return nil, fieldErr(field, part, "is not an IPv4 or IPv6 address or prefix")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p != p.Masked() {
			return nil, fieldErr(field, part, "has host bits set; did you mean "+p.Masked().String()+"?")
		}
		out = append(out, p)
	}
	return out, nil
}

// FormatPrefixes is the inverse of ParsePrefixes ("" for any address).
func FormatPrefixes(ps []netip.Prefix) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// MatchSpec is the textual form of a Match, as the API and CLI take it.
type MatchSpec struct {
	SourceIP   string // prefixes, comma-separated
	DestIP     string
	Protocol   string // name or number
	SourcePort string // ports and ranges, comma-separated
	DestPort   string
}

// ParseMatch parses and validates a textual match. Field names in errors
// are relative ("match.destPort"); callers prefix them.
func ParseMatch(spec MatchSpec) (Match, error) {
	var m Match
	var err error
	if m.SrcPrefixes, err = ParsePrefixes("match.sourceIp", spec.SourceIP); err != nil {
		return Match{}, err
	}
	if m.DstPrefixes, err = ParsePrefixes("match.destIp", spec.DestIP); err != nil {
		return Match{}, err
	}
	if m.Protocol, err = ParseProtocol("match.protocol", spec.Protocol); err != nil {
		return Match{}, err
	}
	if m.SrcPorts, err = ParsePortRanges("match.sourcePort", spec.SourcePort); err != nil {
		return Match{}, err
	}
	if m.DstPorts, err = ParsePortRanges("match.destPort", spec.DestPort); err != nil {
		return Match{}, err
	}
	if err := m.Validate(); err != nil {
		return Match{}, err
	}
	return m, nil
}

// Spec returns the textual form of m; ParseMatch(m.Spec()) == m.
func (m Match) Spec() MatchSpec {
	s := MatchSpec{
		SourceIP:   FormatPrefixes(m.SrcPrefixes),
		DestIP:     FormatPrefixes(m.DstPrefixes),
		SourcePort: FormatPortRanges(m.SrcPorts),
		DestPort:   FormatPortRanges(m.DstPorts),
	}
	if m.Protocol != 0 {
		s.Protocol = ProtocolName(m.Protocol)
	}
	return s
}

// Validate checks combinations that each field alone cannot: ports need a
// protocol that has them.
func (m Match) Validate() error {
	if len(m.SrcPorts)+len(m.DstPorts) > 0 {
		switch m.Protocol {
		case ProtoTCP, ProtoUDP, 132:
		default:
			field := "match.destPort"
			if len(m.DstPorts) == 0 {
				field = "match.sourcePort"
			}
			return fieldErr(field, "", "needs protocol tcp, udp or sctp; protocol "+ProtocolName(m.Protocol)+" has no ports")
		}
	}
	for _, p := range append(append([]netip.Prefix(nil), m.SrcPrefixes...), m.DstPrefixes...) {
		if !p.IsValid() || p != p.Masked() {
			return fieldErr("match.prefixes", p.String(), "is not a valid network prefix")
		}
	}
	return nil
}

// Matches reports whether a packet of the flow k matches m.
func (m *Match) Matches(k FlowKey) bool {
	if m.Protocol != 0 && m.Protocol != k.Proto {
		return false
	}
	if len(m.DstPorts) > 0 && !portIn(m.DstPorts, k.DstPort) {
		return false
	}
	if len(m.SrcPorts) > 0 && !portIn(m.SrcPorts, k.SrcPort) {
		return false
	}
	if len(m.DstPrefixes) > 0 && !prefixIn(m.DstPrefixes, k.DstAddr()) {
		return false
	}
	if len(m.SrcPrefixes) > 0 && !prefixIn(m.SrcPrefixes, k.SrcAddr()) {
		return false
	}
	return true
}

func portIn(rs []PortRange, p uint16) bool {
	for _, r := range rs {
		if r.Contains(p) {
			return true
		}
	}
	return false
}

func prefixIn(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
