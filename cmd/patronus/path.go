package main

import (
	"encoding/json"

	"github.com/patronus-sdwan/patronus/internal/lab"
	"github.com/spf13/cobra"
)

func newPathCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "path", Short: "Show paths and their live metrics"}
	cmd.AddCommand(newPathListCmd())
	return cmd
}

func newPathListCmd() *cobra.Command {
	var af apiFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List paths with their status and latest metrics",
		Long: `List every path with its status (up, degraded, down) and its newest
measurement: round-trip latency, jitter, loss and score. It asks the GraphQL
API, or a lab's own API when the controller has no GraphQL paths query.`,
		Example: `  patronus path list
  patronus path list --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := af.client(); err != nil { // checks --output
				return err
			}
			c := &lab.Client{Base: af.controller, Token: apiToken(af)}
			rows, err := c.Paths(cmd.Context())
			if err != nil {
				return err
			}
			if af.output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			return lab.WriteTable(cmd.OutOrStdout(), rows)
		},
	}
	af.register(cmd)
	return cmd
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
