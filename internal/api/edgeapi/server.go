package edgeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/rest"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// Backend is what the handler needs from the controller. Every method
// other than Authenticate receives the authenticated principal and must
// check it (role edge, its own site) itself.
type Backend interface {
	// Authenticate turns a bearer credential into a principal.
	Authenticate(ctx context.Context, bearer string) (auth.Principal, error)
	// DesiredConfig returns the principal's site's configuration, sealed.
	DesiredConfig(ctx context.Context, p auth.Principal) (Config, error)
	// Stream returns the messages for the principal's edge: a config at
	// once unless its version is since, then whenever it changes, and
	// checks. The channel is closed when ctx ends or the site goes away.
	Stream(ctx context.Context, p auth.Principal, since string) (<-chan Message, error)
	// ReportMetrics stores and publishes a batch of measurements.
	ReportMetrics(ctx context.Context, p auth.Principal, b MetricsBatch) error
	// ReportStates records state changes in order.
	ReportStates(ctx context.Context, p auth.Principal, b StateBatch) error
	// CompleteCheck hands a check's result to whoever waits for it.
	CompleteCheck(ctx context.Context, p auth.Principal, r CheckResult) error
}

// Paths of the edge API.
const (
	PathPrefix  = "/api/v1/edge/"
	PathConfig  = PathPrefix + "config"
	PathStream  = PathPrefix + "stream"
	PathMetrics = PathPrefix + "metrics"
	PathStates  = PathPrefix + "states"
	PathChecks  = PathPrefix + "checks/"
)

// DefaultPingInterval is how often the stream sends a ping when it has
// nothing else to say; an edge that hears nothing for three intervals
// reconnects.
const DefaultPingInterval = 10 * time.Second

// maxBody bounds a report's body: MaxBatch metrics are about 3 MB.
const maxBody = 8 << 20

// HandlerConfig tunes the handler.
type HandlerConfig struct {
	Logger       *slog.Logger
	PingInterval time.Duration // 0 means DefaultPingInterval
}

type handler struct {
	b    Backend
	log  *slog.Logger
	ping time.Duration
}

// NewHandler returns the edge API, to be mounted at PathPrefix.
func NewHandler(b Backend, cfg HandlerConfig) http.Handler {
	h := &handler{b: b, log: cfg.Logger, ping: cfg.PingInterval}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.ping <= 0 {
		h.ping = DefaultPingInterval
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathConfig, h.config)
	mux.HandleFunc("GET "+PathStream, h.stream)
	mux.HandleFunc("POST "+PathMetrics, report(h, b.ReportMetrics))
	mux.HandleFunc("POST "+PathStates, report(h, b.ReportStates))
	mux.HandleFunc("POST "+PathChecks+"{id}", h.check)
	h.mountDataPlane(mux)
	return mux
}

// Bearer returns the token of an "Authorization: Bearer …" header.
func Bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (h *handler) auth(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	p, err := h.b.Authenticate(r.Context(), Bearer(r))
	if err != nil {
		WriteError(w, err)
		return p, false
	}
	if p.Role != sdwan.RoleEdge || p.SiteID == "" {
		WriteError(w, fmt.Errorf("%w: the edge API takes a site credential (pse_…)", sdwan.ErrForbidden))
		return p, false
	}
	return p, true
}

func (h *handler) config(w http.ResponseWriter, r *http.Request) {
	p, ok := h.auth(w, r)
	if !ok {
		return
	}
	cfg, err := h.b.DesiredConfig(r.Context(), p)
	if err != nil {
		WriteError(w, err)
		return
	}
	etag := `"` + cfg.Version + `"`
	w.Header().Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

func (h *handler) stream(w http.ResponseWriter, r *http.Request) {
	p, ok := h.auth(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	msgs, err := h.b.Stream(ctx, p, r.URL.Query().Get("since"))
	if err != nil {
		WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	send := func(m Message) bool {
		if err := enc.Encode(m); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(Message{Type: MsgPing}) { // lets the edge know it is connected
		return
	}
	ping := time.NewTicker(h.ping)
	defer ping.Stop()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if !send(m) {
				return
			}
		case <-ping.C:
			if !send(Message{Type: MsgPing}) {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// report serves a POST of a batch: it authenticates the edge, decodes and
// validates the body, hands it to do and answers 204.
func report[T any, PT interface {
	*T
	Validate() error
}](h *handler, do func(context.Context, auth.Principal, T) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := h.auth(w, r)
		if !ok {
			return
		}
		var b T
		if !decodeBody(w, r, &b) {
			return
		}
		if err := PT(&b).Validate(); err != nil {
			WriteError(w, err)
			return
		}
		if err := do(r.Context(), p, b); err != nil {
			WriteError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *handler) check(w http.ResponseWriter, r *http.Request) {
	p, ok := h.auth(w, r)
	if !ok {
		return
	}
	var res CheckResult
	if !decodeBody(w, r, &res) {
		return
	}
	res.ID = r.PathValue("id")
	if err := h.b.CompleteCheck(r.Context(), p, res); err != nil {
		WriteError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		WriteError(w, &sdwan.FieldError{Field: "body", Reason: "is not valid JSON: " + err.Error()})
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		WriteError(w, &sdwan.FieldError{Field: "body", Reason: "has data after the JSON value"})
		return false
	}
	return true
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// WriteError writes err as an ErrorBody with the status its code maps to,
// as every REST endpoint of the controller does.
func WriteError(w http.ResponseWriter, err error) { rest.WriteError(w, err) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
