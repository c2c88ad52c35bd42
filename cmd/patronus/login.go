package main

import (
	"context"
	"fmt"

	"github.com/patronus-sdwan/patronus/internal/client"
	"github.com/spf13/cobra"
)

func newLoginCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "login USER",
		Short: "Sign in to a controller and print an access token",
		Long: `Sign in with a user name and the password read from standard input, and print
the access token to use as PATRONUS_TOKEN for the other commands.`,
		Example: `  export PATRONUS_TOKEN=$(printf '%s\n' "$PW" | patronus login admin --controller http://127.0.0.1:8080)`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			pw, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			sess, err := login(cmd.Context(), c, args[0], pw)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), nil, sess)
			}
			fmt.Fprintln(cmd.OutOrStdout(), sess.Login.Token)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

type session struct {
	Login struct {
		Token        string `json:"token"`
		ExpiresAt    string `json:"expiresAt"`
		RenewalToken string `json:"renewalToken"`
		User         struct {
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"user"`
	} `json:"login"`
}

func login(ctx context.Context, c *client.Client, user, pw string) (session, error) {
	var s session
	err := c.Do(ctx, `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt renewalToken user { name role } } }`,
		map[string]any{"u": user, "p": pw}, &s)
	return s, err
}
