package edgeapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// maxLine bounds one stream line: a configuration of thousands of paths is
// well under it.
const maxLine = 32 << 20

// Client is the edge's side of the API. It is safe for concurrent use.
type Client struct {
	base string
	cred string
	hc   *http.Client
}

// NewClient returns a client of the controller at base (http://host:port)
// that authenticates with a site credential. hc nil means a client with
// no overall timeout (the stream is long-lived; requests carry their own
// deadlines through their contexts).
func NewClient(base, credential string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("edgeapi: controller URL %q: want http://host:port or https://host:port", base)
	}
	if credential == "" {
		return nil, errors.New("edgeapi: no site credential; issue one with 'patronus site token SITE' and pass it in PATRONUS_SITE_CREDENTIAL")
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: u.String(), cred: credential, hc: hc}, nil
}

// StatusError is an error response of the controller.
type StatusError struct {
	Status int
	Code   string
	Msg    string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("controller answered %d %s: %s", e.Status, e.Code, e.Msg)
}

// Unwrap maps the API's error code back to the domain sentinel.
func (e *StatusError) Unwrap() error {
	switch e.Code {
	case "UNAUTHENTICATED":
		return sdwan.ErrUnauthenticated
	case "FORBIDDEN":
		return sdwan.ErrForbidden
	case "NOT_FOUND":
		return sdwan.ErrNotFound
	case "BAD_INPUT":
		return sdwan.ErrInvalid
	case "CONFLICT":
		return sdwan.ErrConflict
	case "UNAVAILABLE":
		return sdwan.ErrUnavailable
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cred)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
		defer resp.Body.Close()
		var eb ErrorBody
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(b))
		}
		return nil, &StatusError{Status: resp.StatusCode, Code: eb.Code, Msg: eb.Error}
	}
	return resp, nil
}

func (c *Client) post(ctx context.Context, path string, body any) error {
	resp, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Config fetches the site's desired configuration.
func (c *Client) Config(ctx context.Context) (Config, error) {
	resp, err := c.do(ctx, http.MethodGet, PathConfig, nil)
	if err != nil {
		return Config{}, err
	}
	defer resp.Body.Close()
	var cfg Config
	if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("edgeapi: decode config: %w", err)
	}
	return cfg, nil
}

// Stream opens the change stream, telling the controller which config
// version the edge runs, and calls fn with each message until the stream
// ends, fn returns an error, or nothing (not even a ping) arrives for idle.
// It always returns an error: ctx's, fn's, or why the stream broke.
func (c *Client) Stream(ctx context.Context, since string, idle time.Duration, fn func(Message) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errIdle := fmt.Errorf("edgeapi: stream silent for %v", idle)
	watchdog := time.AfterFunc(idle, func() { cancel(errIdle) })
	defer watchdog.Stop()
	resp, err := c.do(ctx, http.MethodGet, PathStream+"?since="+url.QueryEscape(since), nil)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		return err
	}
	defer resp.Body.Close()
	rd := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := readLine(rd)
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return cause
			}
			if errors.Is(err, io.EOF) {
				return errors.New("edgeapi: controller closed the stream")
			}
			return fmt.Errorf("edgeapi: read stream: %w", err)
		}
		watchdog.Reset(idle)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, err := DecodeMessage(line)
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

// readLine reads one newline-terminated line of at most maxLine bytes.
func readLine(rd *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := rd.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, err
		}
	}
}

// ReportMetrics posts a batch of measurements.
func (c *Client) ReportMetrics(ctx context.Context, b MetricsBatch) error {
	return c.post(ctx, PathMetrics, b)
}

// ReportStates posts state changes.
func (c *Client) ReportStates(ctx context.Context, b StateBatch) error {
	return c.post(ctx, PathStates, b)
}

// CompleteCheck posts a check's result.
func (c *Client) CompleteCheck(ctx context.Context, r CheckResult) error {
	return c.post(ctx, PathChecks+url.PathEscape(r.ID), r)
}
