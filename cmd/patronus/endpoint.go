package main

import (
	"strings"

	"github.com/spf13/cobra"
)

func newEndpointCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "endpoint", Short: "List, create and delete sites' WAN links"}
	cmd.AddCommand(newEndpointListCmd(), newEndpointCreateCmd(), newEndpointDeleteCmd())
	return cmd
}

const endpointFields = `id siteId site { name } name address interface kind costPerGb bandwidthMbps reachable`

type endpointJSON struct {
	ID     string `json:"id"`
	SiteID string `json:"siteId"`
	Site   *struct {
		Name string `json:"name"`
	} `json:"site"`
	Name          string  `json:"name"`
	Address       string  `json:"address"`
	Interface     string  `json:"interface"`
	Kind          string  `json:"kind"`
	CostPerGb     float64 `json:"costPerGb"`
	BandwidthMbps float64 `json:"bandwidthMbps"`
	Reachable     bool    `json:"reachable"`
}

func endpointTable(es ...endpointJSON) *table {
	t := &table{header: []string{"SITE", "LINK", "ADDRESS", "KIND", "COST/GB", "MBPS", "ID"}}
	for _, e := range es {
		site := e.SiteID
		if e.Site != nil {
			site = e.Site.Name
		}
		t.add(site, e.Name, e.Address, e.Kind, e.CostPerGb, e.BandwidthMbps, e.ID)
	}
	return t
}

func newEndpointListCmd() *cobra.Command {
	var f apiFlags
	var site string
	cmd := &cobra.Command{
		Use:   "list [--site SITE-ID]",
		Short: "List WAN links, of one site or of all",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vars := map[string]any{}
			if site != "" {
				vars["site"] = site
			}
			var out struct{ Endpoints []endpointJSON }
			if err := f.do(cmd.Context(), `query($site: ID) { endpoints(siteId: $site) { `+endpointFields+` } }`, vars, &out); err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), endpointTable(out.Endpoints...), out.Endpoints)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&site, "site", "", "only this site's links")
	return cmd
}

func newEndpointCreateCmd() *cobra.Command {
	var f apiFlags
	var site, addr, kind, iface string
	var cost, mbps float64
	cmd := &cobra.Command{
		Use:     "create NAME --site SITE-ID --address IP:PORT",
		Short:   "Add a WAN link to a site",
		Example: `  patronus endpoint create wan1 --site "$SITE" --address 203.0.113.7:51820 --kind fibre --bandwidth 1000`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := map[string]any{"siteId": site, "name": args[0], "address": addr, "interface": iface, "costPerGb": cost, "bandwidthMbps": mbps}
			if kind != "" {
				in["kind"] = strings.ToUpper(kind)
			}
			var out struct{ CreateEndpoint endpointJSON }
			if err := f.do(cmd.Context(), `mutation($in: CreateEndpointInput!) { createEndpoint(input: $in) { `+endpointFields+` } }`, map[string]any{"in": in}, &out); err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), endpointTable(out.CreateEndpoint), out.CreateEndpoint)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&site, "site", "", "the site's ID")
	cmd.Flags().StringVar(&addr, "address", "", "the public ip:port peers reach the link at")
	cmd.Flags().StringVar(&kind, "kind", "", "fibre, broadband, lte or other")
	cmd.Flags().StringVar(&iface, "interface", "", "local interface the link's sockets bind to")
	cmd.Flags().Float64Var(&cost, "cost", 0, "cost per GB")
	cmd.Flags().Float64Var(&mbps, "bandwidth", 0, "bandwidth in Mbit/s")
	_ = cmd.MarkFlagRequired("site")
	_ = cmd.MarkFlagRequired("address")
	return cmd
}

func newEndpointDeleteCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "delete ENDPOINT-ID",
		Short: "Remove a WAN link and its paths",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.mutate(cmd, `mutation($id: ID!) { deleteEndpoint(id: $id) { success message audit_id } }`,
				map[string]any{"id": args[0]})
		},
	}
	f.register(cmd)
	return cmd
}
