package main

import (
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "patronus",
		Short: "Patronus, an open-source SD-WAN",
		Long: `Patronus joins an organisation's sites over every WAN link they have, measures
every path all the time, steers each application's traffic over the path that
meets its service level, and fails over in under a second.

Start with 'patronus demo' to run a whole SD-WAN on this machine.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().String("log-level", envOr("PATRONUS_LOG_LEVEL", "info"), "log level: debug, info, warn or error")
	root.AddCommand(newControllerCmd(), newUserCmd(), newMigrateCmd(),
		newLoginCmd(), newSiteCmd(), newEndpointCmd(), newPolicyCmd(), newAPIKeyCmd(), newStatsCmd(),
		newEdgeCmd(), newLabCmd(), newDemoCmd(), newPathCmd())
	return root
}

// logger builds the process logger from the --log-level flag.
func logger(cmd *cobra.Command) *slog.Logger {
	lvl, _ := cmd.Flags().GetString("log-level")
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(lvl))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// storeFlags are the flags every command that opens the store takes.
type storeFlags struct {
	data string
	db   string
}

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.data, "data", envOr("PATRONUS_DATA", "./data"), "directory for the embedded SQLite database (env PATRONUS_DATA)")
	cmd.Flags().StringVar(&f.db, "db", os.Getenv("PATRONUS_DB"), "PostgreSQL URL, postgres://… (env PATRONUS_DB); empty means SQLite in --data")
}
