package controller

import (
	"context"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/control"
)

// mountEdges builds the hub that serves the edges and mounts the edge API
// at /api/v1/edge/. The hub's retention job runs with Serve.
func (c *Controller) mountEdges(ctx context.Context, cfg control.EdgeHubConfig) (*control.EdgeHub, error) {
	hub, err := control.NewEdgeHub(ctx, c.Service, cfg)
	if err != nil {
		return nil, err
	}
	hub.SetTraffic(c.Traffic)
	c.mux.Handle(edgeapi.PathPrefix, edgeapi.NewHandler(hub, edgeapi.HandlerConfig{Logger: c.log}))
	return hub, nil
}
