package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "List, inspect, create, enable, disable and delete routing policies"}
	cmd.AddCommand(newPolicyListCmd(), newPolicyGetCmd(), newPolicyCreateCmd(), newPolicyDeleteCmd(),
		newPolicyToggleCmd("enable", true), newPolicyToggleCmd("disable", false))
	return cmd
}

const policyFields = `id name priority enabled packets_matched bytes_matched
	matchCriteria { protocol sourceIp destIp sourcePort destPort } actions { kind setPath drop }`

type policyJSON struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Priority       int    `json:"priority"`
	Enabled        bool   `json:"enabled"`
	PacketsMatched int64  `json:"packets_matched"`
	BytesMatched   int64  `json:"bytes_matched"`
	MatchCriteria  struct {
		Protocol   *string `json:"protocol"`
		SourceIP   *string `json:"sourceIp"`
		DestIP     *string `json:"destIp"`
		SourcePort *string `json:"sourcePort"`
		DestPort   *string `json:"destPort"`
	} `json:"matchCriteria"`
	Actions struct {
		Kind    string  `json:"kind"`
		SetPath *string `json:"setPath"`
		Drop    bool    `json:"drop"`
	} `json:"actions"`
}

func (p policyJSON) match() string {
	var parts []string
	m := p.MatchCriteria
	for _, kv := range []struct {
		k string
		v *string
	}{{"proto", m.Protocol}, {"src", m.SourceIP}, {"dst", m.DestIP}, {"sport", m.SourcePort}, {"dport", m.DestPort}} {
		if kv.v != nil && *kv.v != "" {
			parts = append(parts, kv.k+"="+*kv.v)
		}
	}
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, " ")
}

func (p policyJSON) action() string {
	if p.Actions.Drop {
		return "drop"
	}
	if p.Actions.SetPath != nil {
		return "steer " + strings.ToLower(*p.Actions.SetPath)
	}
	return strings.ToLower(p.Actions.Kind)
}

func policyTable(ps ...policyJSON) *table {
	t := &table{header: []string{"ID", "PRIORITY", "NAME", "ENABLED", "MATCH", "ACTION", "PACKETS", "BYTES"}}
	for _, p := range ps {
		t.add(p.ID, p.Priority, p.Name, p.Enabled, p.match(), p.action(), p.PacketsMatched, p.BytesMatched)
	}
	return t
}

func newPolicyListCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List policies in evaluation order, with live traffic counters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct{ Policies []policyJSON }
			if err := f.do(cmd.Context(), `{ policies { `+policyFields+` } }`, nil, &out); err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), policyTable(out.Policies...), out.Policies)
		},
	}
	f.register(cmd)
	return cmd
}

func newPolicyGetCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "get POLICY-ID",
		Short: "Show a policy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct{ Policy *policyJSON }
			if err := f.do(cmd.Context(), `query($id: ID!) { policy(id: $id) { `+policyFields+` } }`, map[string]any{"id": args[0]}, &out); err != nil {
				return err
			}
			if out.Policy == nil {
				return fmt.Errorf("no policy %s", args[0])
			}
			return f.print(cmd.OutOrStdout(), policyTable(*out.Policy), out.Policy)
		},
	}
	f.register(cmd)
	return cmd
}

func newPolicyCreateCmd() *cobra.Command {
	var f apiFlags
	var prio int
	var proto, src, dst, sport, dport, action, pref, link string
	var maxLat, maxJit, maxLoss float64
	var disabled bool
	cmd := &cobra.Command{
		Use:   "create NAME --priority N [match flags] [--action steer|drop] [--prefer best_quality|lowest_cost|link --link wan1]",
		Short: "Create a routing policy",
		Example: `  patronus policy create voice --priority 10 --protocol udp --dport 5060-5061,16384-32767 \
      --max-latency 150 --max-jitter 30 --max-loss 1 --prefer best_quality`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := map[string]any{
				"name": args[0], "priority": prio, "enabled": !disabled,
				"match":  map[string]any{"protocol": proto, "sourceIp": src, "destIp": dst, "sourcePort": sport, "destPort": dport},
				"action": strings.ToUpper(action),
				"sla":    map[string]any{"maxLatencyMs": maxLat, "maxJitterMs": maxJit, "maxLossPct": maxLoss},
			}
			if pref != "" {
				in["preference"] = strings.ToUpper(pref)
			}
			if link != "" {
				in["link"] = link
			}
			var out struct{ CreatePolicy policyJSON }
			if err := f.do(cmd.Context(), `mutation($in: CreatePolicyInput!) { createPolicy(input: $in) { `+policyFields+` } }`, map[string]any{"in": in}, &out); err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), policyTable(out.CreatePolicy), out.CreatePolicy)
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&prio, "priority", 0, "evaluation order, lower first; unique")
	fl.StringVar(&proto, "protocol", "", "tcp, udp, icmp, … or a number; empty for any")
	fl.StringVar(&src, "src", "", "source prefixes, comma-separated")
	fl.StringVar(&dst, "dst", "", "destination prefixes, comma-separated")
	fl.StringVar(&sport, "sport", "", "source ports and ranges, such as 1024-65535")
	fl.StringVar(&dport, "dport", "", "destination ports and ranges, such as 80,443")
	fl.StringVar(&action, "action", "steer", "steer or drop")
	fl.StringVar(&pref, "prefer", "", "best_quality, lowest_cost or link")
	fl.StringVar(&link, "link", "", "the WAN link to prefer with --prefer link")
	fl.Float64Var(&maxLat, "max-latency", 0, "SLA: highest round-trip latency in ms (0: no bound)")
	fl.Float64Var(&maxJit, "max-jitter", 0, "SLA: highest jitter in ms (0: no bound)")
	fl.Float64Var(&maxLoss, "max-loss", 0, "SLA: highest loss in percent (0: no bound)")
	fl.BoolVar(&disabled, "disabled", false, "create it disabled")
	_ = cmd.MarkFlagRequired("priority")
	return cmd
}

func newPolicyDeleteCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "delete POLICY-ID",
		Short: "Delete a policy and its statistics",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct{ DeletePolicy bool }
			if err := f.do(cmd.Context(), `mutation($id: ID!) { deletePolicy(id: $id) }`, map[string]any{"id": args[0]}, &out); err != nil {
				return err
			}
			res := mutationResult{Success: out.DeletePolicy, Message: "deleted policy " + args[0]}
			return f.print(cmd.OutOrStdout(), resultTable(res), res)
		},
	}
	f.register(cmd)
	return cmd
}

func newPolicyToggleCmd(verb string, enabled bool) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   verb + " POLICY-ID",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a policy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct{ TogglePolicy policyJSON }
			if err := f.do(cmd.Context(), `mutation($id: ID!, $on: Boolean!) { togglePolicy(id: $id, enabled: $on) { `+policyFields+` } }`,
				map[string]any{"id": args[0], "on": enabled}, &out); err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), policyTable(out.TogglePolicy), out.TogglePolicy)
		},
	}
	f.register(cmd)
	return cmd
}
