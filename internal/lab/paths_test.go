package lab

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestWriteTableGolden(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	rows := []PathRow{
		{ID: "p3", Status: "down", SrcSite: "site-2", SrcLink: "wan1", DstSite: "site-1", DstLink: "wan1"},
		{ID: "p1", Status: "up", SrcSite: "site-1", SrcLink: "wan1", DstSite: "site-2", DstLink: "wan2",
			Metrics: &RowMetrics{LatencyMs: 37.4712, JitterMs: 2.6, PacketLossPct: 0, Score: 99, MeasuredAt: at}},
		{ID: "p2", Status: "degraded", SrcSite: "site-1", SrcLink: "wan1", DstSite: "site-2", DstLink: "wan1",
			Metrics: &RowMetrics{LatencyMs: 120.5, JitterMs: 14.25, PacketLossPct: 23.456, Score: 41, MeasuredAt: at}},
	}
	SortRows(rows)
	var buf bytes.Buffer
	if err := WriteTable(&buf, rows); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "paths.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("table differs from %s (-want +got):\n%s", golden, diff)
	}
}
