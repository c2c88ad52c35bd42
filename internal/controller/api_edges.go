package controller

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/patronus-sdwan/patronus/internal/api/graph"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// graphAPI returns the GraphQL API mounted by mountAPI, found through the
// mux so that the controller needs no field for it.
func (c *Controller) graphAPI() (*graph.API, error) {
	h, _ := c.mux.Handler(&http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/graphql"}, Host: "localhost"})
	api, ok := h.(*graph.API)
	if !ok {
		return nil, errors.New("controller: the GraphQL API is not mounted")
	}
	return api, nil
}

// ConnectEdges makes the GraphQL API's checkPathHealth and failoverPath go
// to hub (control.EdgeHub implements graph.EdgeHub). Until it is called
// they report that no edge is connected.
func (c *Controller) ConnectEdges(hub graph.EdgeHub) error {
	api, err := c.graphAPI()
	if err != nil {
		return err
	}
	api.SetEdges(hub)
	return nil
}

// TrafficStats returns the aggregator whose live per-policy totals the API
// reports as packets_matched and bytes_matched; the edge service applies
// the edges' statistics reports to it.
func (c *Controller) TrafficStats() (*stats.Aggregator, error) {
	api, err := c.graphAPI()
	if err != nil {
		return nil, err
	}
	agg, ok := api.Stats().(*stats.Aggregator)
	if !ok {
		return nil, errors.New("controller: the API's statistics are not an aggregator")
	}
	return agg, nil
}
