package sdwan

import (
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseMatchErrors(t *testing.T) {
	tests := []struct {
		name string
		spec MatchSpec
		want string
	}{
		{"port out of range", MatchSpec{Protocol: "tcp", DestPort: "70000"}, `match.destPort: "70000" is out of range 1-65535`},
		{"port zero", MatchSpec{Protocol: "tcp", DestPort: "0"}, `match.destPort: "0" is out of range 1-65535`},
		{"port word", MatchSpec{Protocol: "udp", SourcePort: "http"}, `match.sourcePort: "http" is not a port number`},
		{"reversed range", MatchSpec{Protocol: "tcp", DestPort: "90-80"}, `match.destPort: "90-80" is a range whose end is below its start`},
		{"empty item", MatchSpec{Protocol: "tcp", DestPort: "80,,443"}, `match.destPort: "80,,443" has an empty item; write ports like 80,443,8000-8080`},
		{"bad proto", MatchSpec{Protocol: "tcpx"}, `match.protocol: "tcpx" is not a protocol name (tcp, udp, icmp, icmpv6, gre, esp, ah, sctp) or number 0-255`},
		{"proto range", MatchSpec{Protocol: "256"}, `match.protocol: "256" is out of range 0-255`},
		{"host bits", MatchSpec{SourceIP: "10.0.0.1/8"}, `match.sourceIp: "10.0.0.1/8" has host bits set; did you mean 10.0.0.0/8?`},
		{"bad prefix", MatchSpec{DestIP: "10.0.0.0/33"}, `match.destIp: "10.0.0.0/33" is not an IPv4 or IPv6 prefix such as 10.0.0.0/8 or 2001:db8::/32`},
		{"bad addr", MatchSpec{DestIP: "nope"}, `match.destIp: "nope" is not an IPv4 or IPv6 address or prefix`},
		{"ports need proto", MatchSpec{DestPort: "443"}, `match.destPort: needs protocol tcp, udp or sctp; protocol any has no ports`},
		{"icmp ports", MatchSpec{Protocol: "icmp", SourcePort: "1"}, `match.sourcePort: needs protocol tcp, udp or sctp; protocol icmp has no ports`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMatch(tt.spec)
			if err == nil {
				t.Fatalf("ParseMatch(%+v) = nil error, want %q", tt.spec, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error = %q\nwant    %q", got, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
		})
	}
}

func TestParseMatchValid(t *testing.T) {
	got, err := ParseMatch(MatchSpec{
		SourceIP: "10.1.0.0/16, 2001:db8::/32", DestIP: "192.0.2.7",
		Protocol: "TCP", SourcePort: "", DestPort: "80,443,8000-8080",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Match{
		SrcPrefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("2001:db8::/32")},
		DstPrefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.7/32")},
		Protocol:    ProtoTCP,
		DstPorts:    []PortRange{{80, 80}, {443, 443}, {8000, 8080}},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("ParseMatch mismatch (-want +got):\n%s", diff)
	}
	spec := got.Spec()
	if spec.DestPort != "80,443,8000-8080" || spec.Protocol != "tcp" || spec.DestIP != "192.0.2.7/32" {
		t.Errorf("Spec() = %+v", spec)
	}
}

func TestMatchMatches(t *testing.T) {
	m, err := ParseMatch(MatchSpec{DestIP: "10.0.0.0/8", Protocol: "udp", DestPort: "5060-5061"})
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddr("192.168.1.1")
	tests := []struct {
		name string
		key  FlowKey
		want bool
	}{
		{"match", NewFlowKey(src, netip.MustParseAddr("10.2.3.4"), 4000, 5060, ProtoUDP), true},
		{"range end", NewFlowKey(src, netip.MustParseAddr("10.2.3.4"), 4000, 5061, ProtoUDP), true},
		{"wrong port", NewFlowKey(src, netip.MustParseAddr("10.2.3.4"), 4000, 5062, ProtoUDP), false},
		{"wrong proto", NewFlowKey(src, netip.MustParseAddr("10.2.3.4"), 4000, 5060, ProtoTCP), false},
		{"wrong dst", NewFlowKey(src, netip.MustParseAddr("11.2.3.4"), 4000, 5060, ProtoUDP), false},
		{"v6 dst", NewFlowKey(netip.MustParseAddr("::1"), netip.MustParseAddr("2001:db8::1"), 4000, 5060, ProtoUDP), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Matches(tt.key); got != tt.want {
				t.Errorf("Matches(%v) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

func TestSiteValidate(t *testing.T) {
	tests := []struct {
		name string
		site Site
		want string // "" = valid
	}{
		{"ok", Site{Name: "site-1"}, ""},
		{"empty name", Site{}, "site.name: is required"},
		{"upper", Site{Name: "Site1"}, `site.name: "Site1" must be 1-63 lower-case letters, digits, '.', '-' or '_', starting and ending with a letter or digit`},
		{"status", Site{Name: "a", Status: "gone"}, `site.status: "gone" must be one of active, inactive, degraded`},
		{"key", Site{Name: "a", PublicKey: "abc"}, `site.publicKey: "abc" is not a base64 WireGuard key of 32 bytes`},
		{"good key", Site{Name: "a", PublicKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, ""},
		{"prefix", Site{Name: "a", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}}, `site.prefixes: "10.0.0.1/24" is not a valid network prefix (host bits must be zero)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.site.Validate(), tt.want)
		})
	}
}

func TestEndpointValidate(t *testing.T) {
	ok := func() Endpoint {
		return Endpoint{SiteID: "s", Name: "wan1", Address: netip.MustParseAddrPort("127.0.0.1:51820")}
	}
	tests := []struct {
		name   string
		mutate func(*Endpoint)
		want   string
	}{
		{"ok", func(*Endpoint) {}, ""},
		{"site", func(e *Endpoint) { e.SiteID = "" }, "endpoint.siteId: is required"},
		{"name", func(e *Endpoint) { e.Name = "" }, "endpoint.name: is required"},
		{"addr", func(e *Endpoint) { e.Address = netip.AddrPort{} }, `endpoint.address: "invalid AddrPort" must be an ip:port with a non-zero port`},
		{"port0", func(e *Endpoint) { e.Address = netip.MustParseAddrPort("1.2.3.4:0") }, `endpoint.address: "1.2.3.4:0" must be an ip:port with a non-zero port`},
		{"iface", func(e *Endpoint) { e.Interface = "a very long interface" }, `endpoint.interface: "a very long interface" is not a valid interface name (at most 15 characters, no spaces or '/')`},
		{"kind", func(e *Endpoint) { e.Kind = "satellite" }, `endpoint.kind: "satellite" must be one of fibre, broadband, lte, other`},
		{"cost", func(e *Endpoint) { e.CostPerGB = -1 }, `endpoint.costPerGb: "-1" must be zero or more`},
		{"bw", func(e *Endpoint) { e.BandwidthMbps = math.NaN() }, `endpoint.bandwidthMbps: "NaN" must be zero or more`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok()
			tt.mutate(&e)
			checkErr(t, e.Validate(), tt.want)
		})
	}
}

func TestPathValidate(t *testing.T) {
	tests := []struct {
		name string
		path Path
		want string
	}{
		{"ok", Path{SrcEndpointID: "a", DstEndpointID: "b"}, ""},
		{"no src", Path{DstEndpointID: "b"}, "path.srcEndpointId: is required"},
		{"no dst", Path{SrcEndpointID: "a"}, "path.dstEndpointId: is required"},
		{"loop", Path{SrcEndpointID: "a", DstEndpointID: "a"}, `path.dstEndpointId: "a" must differ from the source endpoint`},
		{"same site", Path{SrcSiteID: "s", DstSiteID: "s", SrcEndpointID: "a", DstEndpointID: "b"}, `path.dstEndpointId: "b" belongs to the source site; a path joins two different sites`},
		{"status", Path{SrcEndpointID: "a", DstEndpointID: "b", Status: "sideways"}, `path.status: "sideways" must be one of up, degraded, down`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, tt.path.Validate(), tt.want) })
	}
}

func TestPathMetricsValidate(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		m    PathMetrics
		want string
	}{
		{"ok", PathMetrics{PathID: "p", LatencyMs: 1, MeasuredAt: now, Score: 90}, ""},
		{"neg latency", PathMetrics{PathID: "p", LatencyMs: -1, MeasuredAt: now}, `metrics.latency_ms: "-1" must be zero or more`},
		{"loss", PathMetrics{PathID: "p", PacketLossPct: 101, MeasuredAt: now}, `metrics.packet_loss_pct: "101" must be between 0 and 100`},
		{"score", PathMetrics{PathID: "p", Score: 101, MeasuredAt: now}, `metrics.score: "101" must be between 0 and 100`},
		{"time", PathMetrics{PathID: "p"}, "metrics.measured_at: is required"},
		{"path", PathMetrics{MeasuredAt: now}, "metrics.pathId: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, tt.m.Validate(), tt.want) })
	}
}

func TestPolicyValidate(t *testing.T) {
	ok := func() Policy { return Policy{Name: "voice", Priority: 10, Enabled: true} }
	tests := []struct {
		name   string
		mutate func(*Policy)
		want   string
	}{
		{"ok", func(*Policy) {}, ""},
		{"drop", func(p *Policy) { p.Action = Action{Kind: ActionDrop} }, ""},
		{"name", func(p *Policy) { p.Name = "" }, "policy.name: is required"},
		{"priority", func(p *Policy) { p.Priority = -1 }, `policy.priority: "-1" is out of range 0-1000000`},
		{"kind", func(p *Policy) { p.Action.Kind = "teleport" }, `policy.action.kind: "teleport" must be steer or drop`},
		{"pref", func(p *Policy) { p.Action.Preference = "fastest" }, `policy.action.preference: "fastest" must be best_quality, lowest_cost or link`},
		{"link needed", func(p *Policy) { p.Action.Preference = PreferLink }, "policy.action.link: is required"},
		{"link unwanted", func(p *Policy) { p.Action.Link = "wan1" }, `policy.action.link: "wan1" is only allowed with preference link`},
		{"sla", func(p *Policy) { p.Action.SLA.MaxLossPct = 150 }, `policy.action.sla.maxLossPct: "150" must be between 0 (no bound) and 100`},
		{"ports", func(p *Policy) { p.Match.DstPorts = []PortRange{{1, 2}} }, "policy.match.destPort: needs protocol tcp, udp or sctp; protocol any has no ports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok()
			tt.mutate(&p)
			checkErr(t, p.Validate(), tt.want)
		})
	}
}

func TestUserAndRoles(t *testing.T) {
	checkErr(t, (&User{Name: "alice", Role: RoleAdmin}).Validate(), "")
	checkErr(t, (&User{Name: "alice", Role: "root"}).Validate(), `user.role: "root" must be admin, operator or viewer`)
	checkErr(t, (&User{Name: "alice", Role: RoleEdge}).Validate(), `user.role: "edge" must be admin, operator or viewer`)
	checkErr(t, ValidatePassword("password", "short"), "password: must be at least 8 characters")
	tests := []struct {
		have, want Role
		ok         bool
	}{
		{RoleAdmin, RoleOperator, true}, {RoleAdmin, RoleViewer, true}, {RoleOperator, RoleAdmin, false},
		{RoleViewer, RoleOperator, false}, {RoleEdge, RoleViewer, false}, {RoleAdmin, RoleEdge, false},
		{RoleEdge, RoleEdge, true}, {"", RoleViewer, false},
	}
	for _, tt := range tests {
		if got := tt.have.AtLeast(tt.want); got != tt.ok {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", tt.have, tt.want, got, tt.ok)
		}
	}
}

func TestSLAMeets(t *testing.T) {
	sla := SLA{MaxLatencyMs: 150, MaxLossPct: 1}
	if !sla.Meets(PathMetrics{LatencyMs: 100, PacketLossPct: 0.5, JitterMs: 99}) {
		t.Error("within bounds: want true")
	}
	if sla.Meets(PathMetrics{LatencyMs: 151}) {
		t.Error("latency over: want false")
	}
	if sla.Meets(PathMetrics{PacketLossPct: 2}) {
		t.Error("loss over: want false")
	}
}

func TestFlowKey(t *testing.T) {
	k := NewFlowKey(netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("10.0.0.1"), 12345, 80, ProtoTCP)
	if got, want := k.String(), "6 192.168.1.1:12345 -> 10.0.0.1:80"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if r := k.Reverse(); r.SrcAddr() != k.DstAddr() || r.DstPort != k.SrcPort || r.Reverse() != k {
		t.Errorf("Reverse() = %v", r)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want %q", want)
	case want != "" && err.Error() != want:
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}
