package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
	"github.com/spf13/cobra"
)

func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage users directly in the store (for bootstrapping)",
	}
	cmd.AddCommand(newUserAddCmd())
	return cmd
}

func newUserAddCmd() *cobra.Command {
	var sf storeFlags
	var role string
	cmd := &cobra.Command{
		Use:   "add NAME --role admin|operator|viewer",
		Short: "Create a user, reading the password from standard input",
		Long: `Create a user directly in the store, for bootstrapping a controller before
anyone can sign in. The password is read from the first line of standard input
and stored as an argon2id hash; the creation is written to the audit log.`,
		Example: `  printf '%s\n' "$PASSWORD" | patronus user add alice --role admin --data ./data`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := sdwan.ParseRole("--role", role)
			if err != nil {
				return err
			}
			pw, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, store.Config{URL: sf.db, DataDir: sf.data, Migrate: true, Logger: logger(cmd)})
			if err != nil {
				return err
			}
			defer st.Close()
			svc, err := control.New(ctx, st, events.NewBus(nil, "cli"), logger(cmd), nil, control.DefaultConfig)
			if err != nil {
				return err
			}
			u, err := svc.CreateUser(ctx, auth.System, args[0], r, pw)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created user %s with role %s\n", u.Name, u.Role)
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&role, "role", "", "the user's role: admin, operator or viewer")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

// readPassword reads one line from r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input; pipe it in, e.g. printf '%s\\n' \"$PW\" | patronus user add …")
	}
	return pw, nil
}
