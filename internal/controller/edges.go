package controller

import (
	"context"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/control"
)

// EnableEdges builds the hub that serves the edges, mounts the edge API
// at /api/v1/edge/ and returns the hub, whose CheckPathHealth the GraphQL
// API calls and whose RunRetention the caller runs beside Serve. Call it
// once, before Serve.
func (c *Controller) EnableEdges(ctx context.Context, cfg control.EdgeHubConfig) (*control.EdgeHub, error) {
	hub, err := control.NewEdgeHub(ctx, c.Service, cfg)
	if err != nil {
		return nil, err
	}
	c.mux.Handle(edgeapi.PathPrefix, edgeapi.NewHandler(hub, edgeapi.HandlerConfig{Logger: c.log}))
	return hub, nil
}
