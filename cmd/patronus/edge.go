package main

import (
	"errors"
	"os"

	"github.com/patronus-sdwan/patronus/internal/edge/agent"
	"github.com/spf13/cobra"
)

func newEdgeCmd() *cobra.Command {
	var controllerURL, credential string
	cmd := &cobra.Command{
		Use:   "edge",
		Short: "Run a site's edge agent: follow the controller and monitor every path",
		Long: `Run the edge agent of one site. It signs in with the site's credential, fetches
its desired configuration (its WAN links, its peers, its paths), opens a UDP
socket on each link's address, probes every path and answers the peers' probes,
and reports metrics every second and state changes at once. It follows the
controller's changes as they happen; when the controller is unreachable it
keeps running on its last configuration and reconnects with backoff.

Issue the credential with 'patronus site token SITE-ID'.`,
		Example: `  PATRONUS_SITE_CREDENTIAL=pse_… patronus edge --controller http://controller:8080`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if credential == "" {
				return errors.New("no site credential: pass --credential or set PATRONUS_SITE_CREDENTIAL (issue one with 'patronus site token SITE-ID')")
			}
			a, err := agent.New(agent.Config{Controller: controllerURL, Credential: credential, Logger: logger(cmd)})
			if err != nil {
				return err
			}
			return a.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&controllerURL, "controller", envOr("PATRONUS_URL", "http://127.0.0.1:8080"), "controller URL (env PATRONUS_URL)")
	cmd.Flags().StringVar(&credential, "credential", os.Getenv("PATRONUS_SITE_CREDENTIAL"), "site credential pse_… (env PATRONUS_SITE_CREDENTIAL)")
	return cmd
}
