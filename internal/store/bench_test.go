package store

import (
	"context"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// BenchmarkDeleteSite10kPaths hard-deletes a site with 100 endpoints and
// 10,000 paths (every link of the site to every link of a peer with 100
// links), each path with one metrics row, in one transaction through ON
// DELETE CASCADE. Only the delete is timed; the site is rebuilt between
// iterations. cpu-ns/op is the process's CPU time over the deletes alone:
// all of the work on SQLite, the client's share on PostgreSQL.
func BenchmarkDeleteSite10kPaths(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		b.ReportAllocs()
		peer := &sdwan.Site{Name: "peer"}
		tx(b, s, func(q Q) error {
			if err := q.CreateSite(ctx, peer); err != nil {
				return err
			}
			return addEndpoints(ctx, q, peer.ID, 100, 20000)
		})
		var cpu time.Duration
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			site := &sdwan.Site{Name: fmt.Sprintf("doomed-%d", i)}
			tx(b, s, func(q Q) error {
				if err := q.CreateSite(ctx, site); err != nil {
					return err
				}
				if err := addEndpoints(ctx, q, site.ID, 100, 30000); err != nil {
					return err
				}
				return crossPaths(ctx, q, site.ID, peer.ID)
			})
			b.StartTimer()
			var deps SiteDependencies
			start := cpuNow()
			tx(b, s, func(q Q) (err error) {
				deps, err = q.HardDeleteSite(ctx, site.ID)
				return err
			})
			cpu += cpuNow() - start
			if deps.Paths != 10_000 || deps.Endpoints != 100 || deps.Metrics != 10_000 {
				b.Fatalf("deleted %+v, want 10,000 paths, 100 endpoints and 10,000 metrics rows", deps)
			}
		}
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	})
}

// cpuNow is the CPU time of all the process's threads so far. The machines
// these run on are shared, and a benchmark that gets a third of a core
// reports three times its cost in ns/op; CPU time does not move with the
// neighbours' load.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func addEndpoints(ctx context.Context, q Q, siteID string, n, basePort int) error {
	for i := range n {
		e := &sdwan.Endpoint{SiteID: siteID, Name: fmt.Sprintf("wan%d", i+1),
			Address: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(basePort+i))}
		if err := q.CreateEndpoint(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// crossPaths creates a path from every endpoint of src to every endpoint of
// dst, with one metrics row each, in two set-based statements.
func crossPaths(ctx context.Context, q Q, src, dst string) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_paths (id, src_site_pk, src_endpoint_pk, dst_site_pk, dst_endpoint_pk, status, created_at, updated_at)
		SELECT substr(a.id, 1, 18) || substr(b.id, 19), a.site_pk, a.pk, b.site_pk, b.pk, 'up', 0, 0
		FROM sdwan_endpoints a, sdwan_endpoints b
		WHERE a.site_pk = (SELECT pk FROM sdwan_sites WHERE id = $1) AND b.site_pk = (SELECT pk FROM sdwan_sites WHERE id = $2)`, src, dst)
	if err != nil {
		return err
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO sdwan_path_metrics (path_pk, measured_at, latency_ms, jitter_ms, packet_loss_pct, bandwidth_mbps, mtu, score)
		SELECT pk, 0, 10, 1, 0, 100, 1420, 95 FROM sdwan_paths WHERE src_site_pk = (SELECT pk FROM sdwan_sites WHERE id = $1)`, src)
	return err
}

// BenchmarkCreatePath inserts paths one transaction each, the way the API
// creates them (validation, endpoint and site checks, insert, commit).
func BenchmarkCreatePath(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		b.ReportAllocs()
		src, dst := benchSites(b, s, 1000, 1000)
		for i := 0; b.Loop(); i++ {
			p := &sdwan.Path{SrcEndpointID: src[i%1000].ID, DstEndpointID: dst[(i/1000)%1000].ID}
			tx(b, s, func(q Q) error { return q.CreatePath(ctx, p) })
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "paths/s")
	})
}

// benchSites creates two sites, a with na endpoints and c with nc, and
// returns their endpoints.
func benchSites(b *testing.B, s *Store, na, nc int) (src, dst []sdwan.Endpoint) {
	b.Helper()
	ctx := context.Background()
	a, c := &sdwan.Site{Name: "a"}, &sdwan.Site{Name: "c"}
	tx(b, s, func(q Q) error {
		for _, site := range []*sdwan.Site{a, c} {
			if err := q.CreateSite(ctx, site); err != nil {
				return err
			}
		}
		if err := addEndpoints(ctx, q, a.ID, na, 10000); err != nil {
			return err
		}
		return addEndpoints(ctx, q, c.ID, nc, 20000)
	})
	eps := func(site string) []sdwan.Endpoint {
		es, err := s.Read().ListEndpoints(ctx, site)
		if err != nil {
			b.Fatal(err)
		}
		return es
	}
	return eps(a.ID), eps(c.ID)
}
