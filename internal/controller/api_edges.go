package controller

import "github.com/patronus-sdwan/patronus/internal/api/graph"

// ConnectEdges makes the GraphQL API's checkPathHealth and failoverPath go
// to hub (control.EdgeHub implements graph.EdgeHub). Until it is called
// they report that no edge is connected.
func (c *Controller) ConnectEdges(hub graph.EdgeHub) {
	c.API.SetEdges(hub)
}
