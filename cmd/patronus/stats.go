package main

import (
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"
)

func newStatsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "stats", Short: "Traffic statistics per policy"}
	cmd.AddCommand(newStatsExportCmd())
	return cmd
}

func newStatsExportCmd() *cobra.Command {
	var f apiFlags
	var format, from, to, policy, site, step, outFile string
	cmd := &cobra.Command{
		Use:   "export --from TIME --to TIME [--format csv|json|ndjson]",
		Short: "Download per-policy statistics snapshots over a time range",
		Long: `Download the statistics snapshots the controller keeps for each policy (the
all-sites totals, one site's with --site ID, or every site's with --site '*')
between two RFC 3339 times, or a duration before now for --from (such as 24h).
The controller streams the rows, so ranges of millions of rows are fine.`,
		Example: `  patronus stats export --from 24h --format csv -f stats.csv
  patronus stats export --from 2026-11-01T00:00:00Z --to 2026-11-02T00:00:00Z --policy 3 --format ndjson`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			q := url.Values{"format": {format}, "from": {relTime(from, now)}, "to": {relTime(to, now)}}
			for k, v := range map[string]string{"policy": policy, "site": site, "step": step} {
				if v != "" {
					q.Set(k, v)
				}
			}
			w := cmd.OutOrStdout()
			if outFile != "" && outFile != "-" {
				fh, err := os.Create(outFile)
				if err != nil {
					return err
				}
				defer fh.Close()
				w = fh
			}
			n, err := c.Download(cmd.Context(), "/api/v1/stats/export", q, w)
			if err != nil {
				return err
			}
			if outFile != "" && outFile != "-" {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d bytes to %s\n", n, outFile)
			}
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "csv", "csv, json (one array) or ndjson (one object a line)")
	fl.StringVar(&from, "from", "24h", "start: an RFC 3339 time, or a duration before now")
	fl.StringVar(&to, "to", "0s", "end: an RFC 3339 time, or a duration before now")
	fl.StringVar(&policy, "policy", "", "only this policy's rows")
	fl.StringVar(&site, "site", "", "one site's rows (its ID), or '*' for every site's")
	fl.StringVar(&step, "step", "", "downsample to one row per step, such as 5m or 1h")
	fl.StringVarP(&outFile, "file", "f", "", "write to this file instead of standard output")
	return cmd
}

// relTime turns "24h" into the RFC 3339 time that long before now, and
// passes anything else through for the server to validate.
func relTime(s string, now time.Time) string {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d).Format(time.RFC3339)
	}
	return s
}
