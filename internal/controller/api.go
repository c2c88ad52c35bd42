package controller

import "context"

// mountAPI builds the GraphQL API and mounts it on the controller's mux.
// (The GraphQL package fills this in.)
func (c *Controller) mountAPI(ctx context.Context) error { return nil }
