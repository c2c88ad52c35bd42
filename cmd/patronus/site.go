package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newSiteCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "site", Short: "List, inspect, create, delete and restore sites, and set their prefixes"}
	cmd.AddCommand(newSiteListCmd(), newSiteGetCmd(), newSiteCreateCmd(), newSitePrefixesCmd(), newSiteDeleteCmd(), newSiteRestoreCmd(), newSiteTokenCmd())
	return cmd
}

const siteFields = `id name status description endpointCount createdAt deletedAt purgeAfter`

type siteJSON struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Status        string  `json:"status"`
	Description   string  `json:"description"`
	EndpointCount int     `json:"endpointCount"`
	CreatedAt     string  `json:"createdAt"`
	DeletedAt     *string `json:"deletedAt"`
	PurgeAfter    *string `json:"purgeAfter"`
}

func siteTable(sites ...siteJSON) *table {
	t := &table{header: []string{"NAME", "STATUS", "LINKS", "ID", "DELETED"}}
	for _, s := range sites {
		var deleted any
		if s.DeletedAt != nil {
			deleted = *s.DeletedAt
		}
		t.add(s.Name, s.Status, s.EndpointCount, s.ID, deleted)
	}
	return t
}

func newSiteListCmd() *cobra.Command {
	var f apiFlags
	var deleted bool
	var name string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List sites (soft-deleted ones with --deleted)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct{ Sites []siteJSON }
			err := f.do(cmd.Context(), `query($f: SiteFilter) { sites(filter: $f) { `+siteFields+` } }`,
				map[string]any{"f": map[string]any{"deleted": deleted, "nameContains": name}}, &out)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), siteTable(out.Sites...), out.Sites)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&deleted, "deleted", false, "list soft-deleted sites instead")
	cmd.Flags().StringVar(&name, "name", "", "only sites whose name contains this")
	return cmd
}

func newSiteGetCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "get SITE-ID",
		Short: "Show a site with what deleting it would remove",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct {
				Site *struct {
					siteJSON
					Dependencies map[string]int `json:"dependencies"`
				}
			}
			err := f.do(cmd.Context(), `query($id: ID!) { site(id: $id) { `+siteFields+` dependencies { endpoints paths metrics pathEvents policyStats credentials } } }`,
				map[string]any{"id": args[0]}, &out)
			if err != nil {
				return err
			}
			if out.Site == nil {
				return fmt.Errorf("no site %s", args[0])
			}
			t := siteTable(out.Site.siteJSON)
			t.header = append(t.header, "PATHS")
			t.rows[0] = append(t.rows[0], fmt.Sprint(out.Site.Dependencies["paths"]))
			return f.print(cmd.OutOrStdout(), t, out.Site)
		},
	}
	f.register(cmd)
	return cmd
}

func newSiteCreateCmd() *cobra.Command {
	var f apiFlags
	var desc string
	var prefixes []string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a site",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct{ CreateSite siteJSON }
			err := f.do(cmd.Context(), `mutation($in: CreateSiteInput!) { createSite(input: $in) { `+siteFields+` } }`,
				map[string]any{"in": map[string]any{"name": args[0], "description": desc, "prefixes": prefixes}}, &out)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), siteTable(out.CreateSite), out.CreateSite)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&desc, "description", "", "what the site is")
	cmd.Flags().StringSliceVar(&prefixes, "prefix", nil, "a LAN prefix routed to the site over the overlay, such as 10.1.0.0/24 (repeatable)")
	return cmd
}

func newSitePrefixesCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "prefixes SITE-ID [PREFIX...]",
		Short: "Set the LAN prefixes routed to a site over the overlay (none: route nothing to it)",
		Long: `Set the LAN prefixes routed to a site over the overlay, such as 10.1.0.0/24,
replacing the ones it had. Every edge routes them to the site; the site's own edge
delivers only packets addressed to them and, running with --tun, gives its TUN
device the first address of the first prefix.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct {
				AssignSitePrefixes struct {
					siteJSON
					Prefixes []string `json:"prefixes"`
				} `json:"assignSitePrefixes"`
			}
			err := f.do(cmd.Context(), `mutation($id: ID!, $p: [String!]!) { assignSitePrefixes(siteId: $id, prefixes: $p) { `+siteFields+` prefixes } }`,
				map[string]any{"id": args[0], "p": append([]string{}, args[1:]...)}, &out)
			if err != nil {
				return err
			}
			s := out.AssignSitePrefixes
			t := siteTable(s.siteJSON)
			t.header = append(t.header, "PREFIXES")
			t.rows[0] = append(t.rows[0], strings.Join(s.Prefixes, ","))
			return f.print(cmd.OutOrStdout(), t, s)
		},
	}
	f.register(cmd)
	return cmd
}

type mutationResult struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	AuditID string `json:"audit_id"`
}

func resultTable(r mutationResult) *table {
	t := &table{header: []string{"RESULT", "AUDIT"}}
	t.add(r.Message, r.AuditID)
	return t
}

func newSiteDeleteCmd() *cobra.Command {
	var f apiFlags
	var hard bool
	cmd := &cobra.Command{
		Use:   "delete SITE-ID",
		Short: "Delete a site: soft (restorable) by default, --hard to remove it now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.mutate(cmd, `mutation($id: ID!, $hard: Boolean) { deleteSite(site_id: $id, hard: $hard) { success message audit_id } }`,
				map[string]any{"id": args[0], "hard": hard})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&hard, "hard", false, "remove the site, its links, paths and history now; cannot be undone")
	return cmd
}

func newSiteRestoreCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "restore SITE-ID",
		Short: "Restore a soft-deleted site",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.mutate(cmd, `mutation($id: ID!) { restoreSite(site_id: $id) { success message audit_id } }`,
				map[string]any{"id": args[0]})
		},
	}
	f.register(cmd)
	return cmd
}

func newSiteTokenCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "token SITE-ID",
		Short: "Issue the credential an edge signs in with (shown once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct {
				IssueSiteCredential struct {
					Key string `json:"key"`
				} `json:"issueSiteCredential"`
			}
			err := f.do(cmd.Context(), `mutation($id: ID!) { issueSiteCredential(siteId: $id) { key } }`, map[string]any{"id": args[0]}, &out)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), nil, out.IssueSiteCredential)
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.IssueSiteCredential.Key)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
