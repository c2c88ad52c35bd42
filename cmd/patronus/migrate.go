package main

import (
	"fmt"
	"strings"

	"github.com/patronus-sdwan/patronus/internal/store"
	"github.com/spf13/cobra"
)

func newMigrateCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "migrate [up|status]",
		Short: "Apply or show the store's schema migrations",
		Long: `The controller applies pending migrations when it starts; this command does it
on its own ('up', the default) or shows where the store stands ('status').`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"up", "status"},
		RunE: func(cmd *cobra.Command, args []string) error {
			action := "up"
			if len(args) == 1 {
				action = args[0]
			}
			if action != "up" && action != "status" {
				return fmt.Errorf("unknown migrate action %q: want up or status", action)
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, store.Config{URL: sf.db, DataDir: sf.data, Logger: logger(cmd)})
			if err != nil {
				return err
			}
			defer st.Close()
			if action == "up" {
				if err := st.Migrate(ctx); err != nil {
					return err
				}
			}
			s, err := st.Status(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "engine:  %s\nversion: %d of %d\n", st.Engine(), s.Current, s.Latest)
			if len(s.Pending) > 0 {
				fmt.Fprintf(out, "pending: %s\n", strings.Join(s.Pending, ", "))
			} else {
				fmt.Fprintln(out, "pending: none")
			}
			return nil
		},
	}
	sf.register(cmd)
	return cmd
}
