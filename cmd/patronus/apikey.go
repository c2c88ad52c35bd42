package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newAPIKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Create, list and revoke API keys for scripts"}
	cmd.AddCommand(newAPIKeyCreateCmd(), newAPIKeyListCmd(), newAPIKeyRevokeCmd())
	return cmd
}

type apiKeyJSON struct {
	ID        string  `json:"id"`
	Prefix    string  `json:"prefix"`
	Name      string  `json:"name"`
	Role      string  `json:"role"`
	SiteID    *string `json:"siteId"`
	CreatedAt string  `json:"createdAt"`
	LastUsed  *string `json:"lastUsed"`
	RevokedAt *string `json:"revokedAt"`
}

const apiKeyFields = `id prefix name role siteId createdAt lastUsed revokedAt`

func newAPIKeyCreateCmd() *cobra.Command {
	var f apiFlags
	var role string
	cmd := &cobra.Command{
		Use:   "create NAME --role viewer|operator|admin",
		Short: "Create an API key for your user; the key is shown once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct {
				CreateApiKey struct {
					Key    string     `json:"key"`
					APIKey apiKeyJSON `json:"apiKey"`
				} `json:"createApiKey"`
			}
			err := f.do(cmd.Context(), `mutation($n: String!, $r: Role!) { createApiKey(name: $n, role: $r) { key apiKey { `+apiKeyFields+` } } }`,
				map[string]any{"n": args[0], "r": strings.ToUpper(role)}, &out)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), nil, out.CreateApiKey)
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.CreateApiKey.Key)
			fmt.Fprintln(cmd.ErrOrStderr(), "Keep this key now: it is not shown again.")
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&role, "role", "viewer", "the key's role, at most your own")
	return cmd
}

func newAPIKeyListCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your API keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				APIKeys []apiKeyJSON `json:"apiKeys"`
			}
			if err := f.do(cmd.Context(), `{ apiKeys { `+apiKeyFields+` } }`, nil, &out); err != nil {
				return err
			}
			t := &table{header: []string{"NAME", "PREFIX", "ROLE", "CREATED", "LAST USED", "REVOKED", "ID"}}
			for _, k := range out.APIKeys {
				t.add(k.Name, k.Prefix, k.Role, k.CreatedAt, deref(k.LastUsed), deref(k.RevokedAt), k.ID)
			}
			return f.print(cmd.OutOrStdout(), t, out.APIKeys)
		},
	}
	f.register(cmd)
	return cmd
}

func newAPIKeyRevokeCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "revoke KEY-ID",
		Short: "Revoke an API key or site credential",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.mutate(cmd, `mutation($id: ID!) { revokeApiKey(id: $id) { success message audit_id } }`,
				map[string]any{"id": args[0]})
		},
	}
	f.register(cmd)
	return cmd
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
