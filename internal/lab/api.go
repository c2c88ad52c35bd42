package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/lab/wanem"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// The lab's control, served on the controller's listener.
const (
	apiPrefix = "/api/v1/lab/"
	// APILinks lists the emulated links with their impairments (viewer).
	APILinks = apiPrefix + "links"
	// APIPaths lists the paths with their status and latest metrics
	// (viewer).
	APIPaths = apiPrefix + "paths"
)

// ImpairPath is where a link's impairment is changed (operator):
// POST /api/v1/lab/links/SITE/LINK/impair with an ImpairRequest.
func ImpairPath(site, link string) string { return APILinks + "/" + site + "/" + link + "/impair" }

// LinkState is one emulated link as the lab's API shows it.
type LinkState struct {
	Name    string      `json:"name"`
	Address string      `json:"address"`
	Out     string      `json:"out"` // the outbound impairment, as the CLI writes it
	In      string      `json:"in"`
	Stats   wanem.Stats `json:"stats"`
}

// ImpairRequest changes one link: Set's fields replace those of the
// current impairment in the directions Dir names (both, out or in; empty
// means both).
type ImpairRequest struct {
	Dir string       `json:"dir,omitempty"`
	Set wanem.Change `json:"set"`
}

// PathRow is one path as the lab's API lists it.
type PathRow struct {
	ID      string      `json:"id"`
	Status  string      `json:"status"`
	SrcSite string      `json:"srcSite"`
	SrcLink string      `json:"srcLink"`
	DstSite string      `json:"dstSite"`
	DstLink string      `json:"dstLink"`
	Metrics *RowMetrics `json:"metrics,omitempty"`
}

// RowMetrics are a path's latest stored metrics, with the seed's names.
type RowMetrics struct {
	LatencyMs     float64   `json:"latency_ms"`
	JitterMs      float64   `json:"jitter_ms"`
	PacketLossPct float64   `json:"packet_loss_pct"`
	Score         int       `json:"score"`
	MeasuredAt    time.Time `json:"measured_at"`
}

type api struct {
	l   *Lab
	svc *control.Service
}

func newAPI(l *Lab) http.Handler {
	a := &api{l: l, svc: l.Controller.Service}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+APILinks, a.listLinks)
	mux.HandleFunc("POST "+APILinks+"/{site}/{link}/impair", a.impair)
	mux.HandleFunc("GET "+APIPaths, a.listPaths)
	mux.HandleFunc("POST "+APITraffic, a.traffic)
	return mux
}

func (a *api) principal(w http.ResponseWriter, r *http.Request, need sdwan.Role) (auth.Principal, bool) {
	p, err := a.svc.Authenticate(r.Context(), edgeapi.Bearer(r))
	if err == nil {
		err = control.Require(p, need)
	}
	if err != nil {
		edgeapi.WriteError(w, err)
		return p, false
	}
	return p, true
}

func (a *api) state(name string) LinkState {
	wl := a.l.links[name]
	return LinkState{Name: name, Address: wl.Addr().String(), Out: wl.Impairment(wanem.Out).String(),
		In: wl.Impairment(wanem.In).String(), Stats: wl.Stats()}
}

func (a *api) listLinks(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.principal(w, r, sdwan.RoleViewer); !ok {
		return
	}
	out := []LinkState{}
	for _, n := range a.l.LinkNames() {
		out = append(out, a.state(n))
	}
	writeJSON(w, out)
}

func (a *api) impair(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r, sdwan.RoleOperator)
	if !ok {
		return
	}
	name := r.PathValue("site") + "/" + r.PathValue("link")
	wl := a.l.links[name]
	if wl == nil {
		edgeapi.WriteError(w, fmt.Errorf("%w: no lab link %s (links are %v)", sdwan.ErrNotFound, name, a.l.LinkNames()))
		return
	}
	var req ImpairRequest
	if !readJSON(w, r, &req) {
		return
	}
	dirs, err := wanem.ParseDirections(req.Dir)
	if err != nil {
		edgeapi.WriteError(w, &sdwan.FieldError{Field: "dir", Value: req.Dir, Reason: "must be both, out or in"})
		return
	}
	if req.Set.IsEmpty() {
		edgeapi.WriteError(w, &sdwan.FieldError{Field: "set", Reason: "changes nothing"})
		return
	}
	if err := wl.Apply(dirs, req.Set); err != nil {
		edgeapi.WriteError(w, &sdwan.FieldError{Field: "set", Reason: err.Error()})
		return
	}
	st := a.state(name)
	summary := fmt.Sprintf("lab link %s (%s): %s; now out: %s, in: %s", name, dirs, req.Set, st.Out, st.In)
	ctx := context.WithoutCancel(r.Context())
	if _, err := a.svc.RecordAudit(ctx, p, sdwan.RoleOperator, sdwan.AuditEntry{
		Action: "lab.impair", TargetType: "link", TargetID: name, Severity: sdwan.SeverityWarning, Summary: summary,
	}, events.Event{Kind: events.Alert, Severity: string(sdwan.SeverityWarning), Summary: summary}); err != nil {
		a.l.log.Warn("audit lab impairment", "err", err)
	}
	a.l.log.Info("lab: impaired link", "link", name, "dir", dirs.String(), "set", req.Set.String(), "by", p.Actor())
	writeJSON(w, st)
}

func (a *api) listPaths(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r, sdwan.RoleViewer)
	if !ok {
		return
	}
	rows, err := PathRows(r.Context(), a.svc, p)
	if err != nil {
		edgeapi.WriteError(w, err)
		return
	}
	writeJSON(w, rows)
}

// PathRows lists every path between live sites with names and latest
// metrics, ordered by source and destination.
func PathRows(ctx context.Context, svc *control.Service, p auth.Principal) ([]PathRow, error) {
	q, err := svc.Reader(p)
	if err != nil {
		return nil, err
	}
	eps, err := q.ListEndpoints(ctx, "")
	if err != nil {
		return nil, err
	}
	epName := map[string]string{}
	for _, e := range eps {
		epName[e.ID] = e.Name
	}
	siteName := map[string]string{}
	rows := []PathRow{}
	for off := 0; ; off += store.MaxLimit {
		ps, total, err := q.ListPaths(ctx, store.PathFilter{}, store.Page{Limit: store.MaxLimit, Offset: off})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(ps))
		for i, path := range ps {
			ids[i] = path.ID
		}
		ms, err := q.LatestPathMetricsFor(ctx, ids)
		if err != nil {
			return nil, err
		}
		latest := make(map[string]sdwan.PathMetrics, len(ms))
		for _, m := range ms {
			latest[m.PathID] = m
		}
		for _, path := range ps {
			for _, id := range []string{path.SrcSiteID, path.DstSiteID} {
				if _, ok := siteName[id]; !ok {
					s, err := q.Site(ctx, id)
					if err != nil {
						return nil, err
					}
					siteName[id] = s.Name
				}
			}
			row := PathRow{ID: path.ID, Status: string(path.Status),
				SrcSite: siteName[path.SrcSiteID], SrcLink: epName[path.SrcEndpointID],
				DstSite: siteName[path.DstSiteID], DstLink: epName[path.DstEndpointID]}
			if m, ok := latest[path.ID]; ok {
				row.Metrics = &RowMetrics{LatencyMs: m.LatencyMs, JitterMs: m.JitterMs, PacketLossPct: m.PacketLossPct, Score: m.Score, MeasuredAt: m.MeasuredAt}
			}
			rows = append(rows, row)
		}
		if off+len(ps) >= total || len(ps) == 0 {
			break
		}
	}
	SortRows(rows)
	return rows, nil
}

// readJSON decodes a request body of at most 64 KiB into v, refusing
// unknown fields; on failure it writes the error and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		edgeapi.WriteError(w, &sdwan.FieldError{Field: "body", Reason: err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
