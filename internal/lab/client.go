package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
)

// Client talks to a running controller for the lab's commands (impair,
// path list). Token is an access token or API key.
type Client struct {
	Base  string
	Token string
	HTTP  *http.Client
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Base, "/")+path, rd)
	if err != nil {
		return 0, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		var eb edgeapi.ErrorBody
		if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(b))
		}
		return resp.StatusCode, &edgeapi.StatusError{Status: resp.StatusCode, Code: eb.Code, Msg: eb.Error}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", path, err)
		}
	}
	return resp.StatusCode, nil
}

// Impair changes a lab link ("site-1/wan1").
func (c *Client) Impair(ctx context.Context, link string, req ImpairRequest) (LinkState, error) {
	site, name, ok := strings.Cut(link, "/")
	if !ok || site == "" || name == "" || strings.Contains(name, "/") {
		return LinkState{}, fmt.Errorf("link %q: want SITE/LINK, such as site-1/wan1", link)
	}
	var st LinkState
	_, err := c.do(ctx, http.MethodPost, ImpairPath(site, name), req, &st)
	return st, err
}

// Links lists the lab's links.
func (c *Client) Links(ctx context.Context) ([]LinkState, error) {
	var out []LinkState
	_, err := c.do(ctx, http.MethodGet, APILinks, nil, &out)
	return out, err
}

// pathsQuery is what 'patronus path list' asks the GraphQL API.
const pathsQuery = `{ paths { id status srcSite { name } srcEndpoint { name } dstSite { name } dstEndpoint { name }
  metrics { latency_ms jitter_ms packet_loss_pct score measured_at } } }`

type gqlName struct {
	Name string `json:"name"`
}

type gqlPaths struct {
	Data *struct {
		Paths []struct {
			ID          string      `json:"id"`
			Status      string      `json:"status"`
			SrcSite     gqlName     `json:"srcSite"`
			SrcEndpoint gqlName     `json:"srcEndpoint"`
			DstSite     gqlName     `json:"dstSite"`
			DstEndpoint gqlName     `json:"dstEndpoint"`
			Metrics     *RowMetrics `json:"metrics"`
		} `json:"paths"`
	} `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// errNoGraphQL says the controller's GraphQL API cannot answer the query.
var errNoGraphQL = errors.New("no GraphQL paths query")

// Paths lists paths with their live metrics: from the GraphQL API when the
// controller has one that answers the query, else from the lab's API.
func (c *Client) Paths(ctx context.Context) ([]PathRow, error) {
	rows, err := c.graphQLPaths(ctx)
	if err == nil {
		return rows, nil
	}
	if !errors.Is(err, errNoGraphQL) {
		return nil, err
	}
	var out []PathRow
	if _, err := c.do(ctx, http.MethodGet, APIPaths, nil, &out); err != nil {
		return nil, err
	}
	SortRows(out)
	return out, nil
}

func (c *Client) graphQLPaths(ctx context.Context) ([]PathRow, error) {
	var res gqlPaths
	status, err := c.do(ctx, http.MethodPost, "/graphql", map[string]string{"query": pathsQuery}, &res)
	var se *edgeapi.StatusError
	switch {
	case errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed || se.Status == http.StatusBadRequest || se.Status == 422):
		return nil, errNoGraphQL
	case err != nil:
		return nil, err
	case status != http.StatusOK || res.Data == nil:
		if len(res.Errors) > 0 && strings.Contains(strings.ToLower(res.Errors[0].Message), "unauth") {
			return nil, fmt.Errorf("graphql: %s", res.Errors[0].Message)
		}
		return nil, errNoGraphQL
	}
	rows := make([]PathRow, 0, len(res.Data.Paths))
	for _, p := range res.Data.Paths {
		rows = append(rows, PathRow{ID: p.ID, Status: strings.ToLower(p.Status), SrcSite: p.SrcSite.Name, SrcLink: p.SrcEndpoint.Name,
			DstSite: p.DstSite.Name, DstLink: p.DstEndpoint.Name, Metrics: p.Metrics})
	}
	SortRows(rows)
	return rows, nil
}
