package controller

import "github.com/patronus-sdwan/patronus/internal/web"

// mountWeb serves the dashboard at / from the assets embedded in the
// binary, or a page saying how to build it when the binary was built
// without them. More specific patterns (the API, health, metrics) win over
// "/", so the dashboard only answers what nothing else does.
func (c *Controller) mountWeb() {
	assets, _ := web.Assets()
	h, err := web.NewHandler(assets, c.log)
	if err != nil {
		// The embedded files are part of the binary; failing to read
		// them is a broken build, so serve the instructions instead.
		c.log.Error("dashboard assets unreadable; serving build instructions", "err", err)
		h, _ = web.NewHandler(nil, c.log)
	}
	if !h.Built() {
		c.log.Warn("dashboard not built into this binary; / explains how (make build)")
	}
	c.mux.Handle("/", h)
}
