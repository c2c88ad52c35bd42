package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/patronus-sdwan/patronus/internal/client"
	"github.com/spf13/cobra"
)

// apiFlags are the flags of every command that talks to a controller.
type apiFlags struct {
	controller string
	token      string
	output     string
}

func (f *apiFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.controller, "controller", envOr("PATRONUS_URL", "http://127.0.0.1:8080"), "controller URL (env PATRONUS_URL)")
	cmd.Flags().StringVar(&f.token, "token", "", "access token or API key (default: env PATRONUS_TOKEN)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
}

// client returns an API client; the token comes from --token or
// PATRONUS_TOKEN, never from a default.
func (f *apiFlags) client() (*client.Client, error) {
	if f.output != "table" && f.output != "json" {
		return nil, fmt.Errorf("--output %q: want table or json", f.output)
	}
	tok := f.token
	if tok == "" {
		tok = os.Getenv("PATRONUS_TOKEN")
	}
	return client.New(f.controller, tok)
}

// do runs one GraphQL request against the controller and decodes its data
// into out.
func (f *apiFlags) do(ctx context.Context, query string, vars map[string]any, out any) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	return c.Do(ctx, query, vars, out)
}

// mutate runs a mutation that selects one field answering with success,
// message and audit_id, and prints that answer.
func (f *apiFlags) mutate(cmd *cobra.Command, query string, vars map[string]any) error {
	var out map[string]mutationResult
	if err := f.do(cmd.Context(), query, vars, &out); err != nil {
		return err
	}
	var r mutationResult
	for _, v := range out { // the query selects one field
		r = v
	}
	return f.print(cmd.OutOrStdout(), resultTable(r), r)
}

// table is rows of cells printed aligned, or as JSON objects keyed by the
// header.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case nil:
			row[i] = "-"
		case string:
			row[i] = v
			if v == "" {
				row[i] = "-"
			}
		case float64:
			row[i] = strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
		default:
			row[i] = fmt.Sprint(v)
		}
	}
	t.rows = append(t.rows, row)
}

// print writes the table in the chosen format; json prints raw (the API's
// own data) rather than the table's strings.
func (f *apiFlags) print(w io.Writer, t *table, raw any) error {
	if f.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(raw)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
