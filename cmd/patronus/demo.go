package main

import (
	"github.com/patronus-sdwan/patronus/internal/lab"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the demo: 3 sites x 2 links whose links degrade and fail over time",
		Long: `Run the demo: a controller and 3 sites with 2 emulated WAN links each, on this
machine, without root or set-up. A built-in scenario loops every three
minutes: a link degrades and fails, another turns slow and lossy, a third
fails briefly, and the edges' path monitors follow. It prints the dashboard
URL, the admin password (PATRONUS_ADMIN_PASSWORD, or generated) and an API
key for 'patronus path list' and 'patronus lab impair'.`,
		Example: `  patronus demo
  PATRONUS_ADMIN_PASSWORD=change-me patronus demo --listen 127.0.0.1:9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLab(cmd, f, lab.DemoSites, lab.DemoLinks, lab.DemoScenario())
		},
	}
	f.register(cmd)
	return cmd
}
