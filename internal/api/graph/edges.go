package graph

import (
	"context"
	"fmt"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// EdgeHub reaches the edges connected to this controller, for the
// operations that act on the data plane: an on-demand probe of a path and a
// manual failover. The edge agents supply the real implementation; until
// an edge is connected, NoEdges reports so, and the API never invents a
// result.
type EdgeHub interface {
	// CheckPathHealth asks the edge of path's source site to probe it now
	// and returns the measurement. It returns an error wrapping
	// sdwan.ErrUnavailable when that edge is not connected.
	CheckPathHealth(ctx context.Context, path sdwan.Path) (sdwan.PathMetrics, error)
	// Failover asks the edge of path's source site to move the flows on
	// path to target (or, when target is "", to the best eligible path).
	// It returns an error wrapping sdwan.ErrUnavailable when that edge is
	// not connected.
	Failover(ctx context.Context, path sdwan.Path, target, reason string) error
}

// NoEdges is the EdgeHub of a controller with no edge connected.
type NoEdges struct{}

// CheckPathHealth implements EdgeHub.
func (NoEdges) CheckPathHealth(_ context.Context, p sdwan.Path) (sdwan.PathMetrics, error) {
	return sdwan.PathMetrics{}, errNoEdge(p.SrcSiteID)
}

// Failover implements EdgeHub.
func (NoEdges) Failover(_ context.Context, p sdwan.Path, _, _ string) error {
	return errNoEdge(p.SrcSiteID)
}

func errNoEdge(site string) error {
	return fmt.Errorf("%w: no edge connected for site %s; start the site's edge (patronus edge) and try again", sdwan.ErrUnavailable, site)
}
