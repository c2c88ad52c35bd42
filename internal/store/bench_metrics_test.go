package store

import (
	"context"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// BenchmarkAddPathMetrics writes one edge report a transaction: a
// measurement of each of 10 paths, the way the controller stores an edge's
// metrics batch.
func BenchmarkAddPathMetrics(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		b.ReportAllocs()
		src, dst := benchSites(b, s, 10, 1)
		var pathIDs []string
		tx(b, s, func(q Q) error {
			for _, e := range src {
				p := &sdwan.Path{SrcEndpointID: e.ID, DstEndpointID: dst[0].ID}
				if err := q.CreatePath(ctx, p); err != nil {
					return err
				}
				pathIDs = append(pathIDs, p.ID)
			}
			return nil
		})
		batch := make([]sdwan.PathMetrics, len(pathIDs))
		start := cpuNow()
		for i := 0; b.Loop(); i++ {
			for j, id := range pathIDs {
				batch[j] = sdwan.PathMetrics{PathID: id, MeasuredAt: testEpoch.Add(time.Duration(i) * time.Second),
					LatencyMs: 10, JitterMs: 1, BandwidthMbps: 100, MTU: 1420, Score: 95}
			}
			tx(b, s, func(q Q) error { return q.AddPathMetrics(ctx, batch...) })
		}
		b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
	})
}
