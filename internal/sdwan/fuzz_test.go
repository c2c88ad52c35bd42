package sdwan

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseMatch checks that the policy match parser never panics, that
// every refusal is a FieldError, and that what it accepts survives a round
// trip through its textual form unchanged.
func FuzzParseMatch(f *testing.F) {
	f.Add("10.0.0.0/8", "2001:db8::/32", "tcp", "1-1024", "80,443")
	f.Add("", "", "udp", "", "70000")
	f.Add("1.2.3.4", "::1", "17", "5060", "5060-5061")
	f.Add("10.0.0.1/8", "x", "icmp", "", "")
	f.Add(",", "/", "-1", "-", "0-")
	f.Fuzz(func(t *testing.T, src, dst, proto, sport, dport string) {
		m, err := ParseMatch(MatchSpec{SourceIP: src, DestIP: dst, Protocol: proto, SourcePort: sport, DestPort: dport})
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			return
		}
		again, err := ParseMatch(m.Spec())
		if err != nil {
			t.Fatalf("re-parse of %+v: %v", m.Spec(), err)
		}
		if diff := cmp.Diff(m, again, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
			t.Fatalf("round trip changed the match:\n%s", diff)
		}
	})
}
