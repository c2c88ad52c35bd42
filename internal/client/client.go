// Package client talks to a Patronus controller for the CLI: GraphQL
// requests with a bearer credential, the controller's error codes turned
// back into Go errors, and plain HTTP for downloads such as the
// statistics export.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client is a controller's API.
type Client struct {
	// URL is the controller's base URL, such as http://127.0.0.1:8080.
	URL string
	// Token is an access token, API key or site credential.
	Token string
	HTTP  *http.Client
}

// New returns a client for the controller at base.
func New(base, token string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("controller URL %q: want http://host:port or https://host:port", base)
	}
	return &Client{URL: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}, nil
}

// Error is an error the API returned.
type Error struct {
	Message string
	Code    string // UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, BAD_INPUT, UNAVAILABLE
	Field   string // for BAD_INPUT: the field at fault
}

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return strings.ToLower(strings.ReplaceAll(e.Code, "_", " ")) + ": " + e.Message
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	} `json:"extensions"`
}

// Do runs a GraphQL operation and decodes its data into out.
func (c *Client) Do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	c.authorize(req)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("controller %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	var res struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("controller answered %s with something that is not GraphQL: %.200s", resp.Status, raw)
	}
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		return &Error{Message: e.Message, Code: e.Extensions.Code, Field: e.Extensions.Field}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res.Data, out)
}

func (c *Client) authorize(req *http.Request) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
}

// Download GETs path with the query and copies the body to w, returning
// an *Error for a refused request.
func (c *Client) Download(ctx context.Context, path string, q url.Values, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	c.authorize(req)
	hc := *c.HTTP
	hc.Timeout = 0 // a large export may take a while; ctx bounds it
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("controller %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("%s: %.200s", resp.Status, raw)
		}
		return 0, &Error{Message: e.Error, Code: e.Code}
	}
	return io.Copy(w, resp.Body)
}
