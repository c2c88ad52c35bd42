package events

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEncodeCutsOversizedSummary(t *testing.T) {
	for _, tc := range []struct {
		name    string
		summary string
		cut     bool
	}{
		{"small", "created site hq", false},
		{"oversized", strings.Repeat("é", 6000), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := encode(Event{Kind: SiteCreated, SiteID: "s1", Summary: tc.summary, Origin: "r1"})
			if err != nil {
				t.Fatal(err)
			}
			if len(p) > maxNotifyPayload {
				t.Fatalf("payload of %d bytes is over the NOTIFY limit", len(p))
			}
			var e Event
			if err := json.Unmarshal([]byte(p), &e); err != nil {
				t.Fatal(err)
			}
			if e.SiteID != "s1" || e.Origin != "r1" || (e.Summary != tc.summary) == !tc.cut {
				t.Errorf("decoded %+v (cut=%v)", e.Kind, tc.cut)
			}
			if tc.cut && !strings.HasSuffix(e.Summary, "…") {
				t.Errorf("a cut summary should end with an ellipsis")
			}
		})
	}
}
