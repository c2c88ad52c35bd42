package graph

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/patronus-sdwan/patronus/internal/api/graph/model"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// Conversions between the domain's types and the API's. They copy; the
// API's objects never alias the store's.

func ptr[T any](v T) *T { return &v }

// convertAll converts a list with conv. The answer is never nil, so an
// empty list reads [] rather than null.
func convertAll[S, T any](in []S, conv func(S) *T) []*T {
	out := make([]*T, len(in))
	for i, v := range in {
		out[i] = conv(v)
	}
	return out
}

// strPtr returns nil for "", so optional fields read null rather than "".
func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toSite(s sdwan.Site) *model.Site {
	out := &model.Site{
		ID: s.ID, Name: s.Name, Description: s.Description,
		Status:    model.SiteStatus(strings.ToUpper(string(s.Status))),
		PublicKey: strPtr(s.PublicKey),
		Prefixes:  make([]string, len(s.Prefixes)),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, DeletedAt: s.DeletedAt,
	}
	for i, p := range s.Prefixes {
		out.Prefixes[i] = p.String()
	}
	return out
}

func toEndpoint(e sdwan.Endpoint) *model.Endpoint {
	return &model.Endpoint{
		ID: e.ID, SiteID: e.SiteID, Name: e.Name, Address: e.Address.String(), Interface: e.Interface,
		Kind:      model.LinkKind(strings.ToUpper(string(e.Kind))),
		CostPerGb: e.CostPerGB, BandwidthMbps: e.BandwidthMbps, Reachable: e.Reachable,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

func toPathStatus(s sdwan.PathStatus) model.PathStatus {
	return model.PathStatus(strings.ToUpper(string(s)))
}

func toPath(p sdwan.Path) *model.Path {
	return &model.Path{
		ID: p.ID, Status: toPathStatus(p.Status),
		SrcSiteID: p.SrcSiteID, SrcEndpointID: p.SrcEndpointID,
		DstSiteID: p.DstSiteID, DstEndpointID: p.DstEndpointID,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func toMetrics(m sdwan.PathMetrics) *model.PathMetrics {
	return &model.PathMetrics{
		PathID: m.PathID, LatencyMs: m.LatencyMs, JitterMs: m.JitterMs, PacketLossPct: m.PacketLossPct,
		BandwidthMbps: m.BandwidthMbps, Mtu: m.MTU, MeasuredAt: m.MeasuredAt, Score: m.Score,
	}
}

func toPathEvent(e store.PathEvent) *model.PathEvent {
	out := &model.PathEvent{At: e.At, Kind: e.Kind, Reason: e.Reason}
	if e.From != "" {
		out.From = ptr(toPathStatus(e.From))
	}
	if e.To != "" {
		out.To = ptr(toPathStatus(e.To))
	}
	return out
}

// toAvailabilityWindow converts one window of a path's availability.
func toAvailabilityWindow(w control.AvailabilityWindow) *model.AvailabilityWindow {
	return &model.AvailabilityWindow{
		WindowSeconds: w.Window.Seconds(), CoveredSeconds: w.Covered.Seconds(),
		UpSeconds: w.Up.Seconds(), DegradedSeconds: w.Degraded.Seconds(), DownSeconds: w.Down.Seconds(),
		UptimePct: w.UptimePct, UpPct: w.UpPct,
	}
}

// toPolicy converts a policy with its live totals.
func toPolicy(p *sdwan.Policy, t stats.Totals) *model.Policy {
	out := policyView(p)
	setTotals(&out, t)
	return &out
}

// policyView converts everything of a policy but its live totals. Its
// MatchCriteria and Actions are never written after, so views of one
// policy list may share them between requests (policyViews).
func policyView(p *sdwan.Policy) model.Policy {
	spec := p.Match.Spec()
	a := &model.PolicyActions{
		Kind:    model.ActionKind(strings.ToUpper(string(p.Action.Kind))),
		SetPath: strPtr(p.Action.SetPath()),
		Drop:    p.Action.Kind == sdwan.ActionDrop,
		Link:    strPtr(p.Action.Link),
		Sla:     &model.Sla{MaxLatencyMs: p.Action.SLA.MaxLatencyMs, MaxJitterMs: p.Action.SLA.MaxJitterMs, MaxLossPct: p.Action.SLA.MaxLossPct},
	}
	if p.Action.Preference != "" {
		a.Preference = ptr(model.PathPreference(strings.ToUpper(string(p.Action.Preference))))
	}
	return model.Policy{
		ID: strconv.FormatInt(p.ID, 10), PolicyID: p.ID,
		Name: p.Name, Description: p.Description, Priority: p.Priority, Enabled: p.Enabled,
		MatchCriteria: &model.MatchCriteria{
			Protocol: strPtr(spec.Protocol), SourceIP: strPtr(spec.SourceIP), DestIP: strPtr(spec.DestIP),
			SourcePort: strPtr(spec.SourcePort), DestPort: strPtr(spec.DestPort),
		},
		Actions:   a,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// setTotals fills in a policy's live figures.
func setTotals(p *model.Policy, t stats.Totals) {
	p.PacketsMatched, p.BytesMatched, p.ActiveFlows = clampInt64(t.Packets), clampInt64(t.Bytes), clampInt64(t.ActiveFlows)
}

// clampInt64 converts a counter for the Int64 scalar, saturating rather
// than wrapping negative past 2^63.
func clampInt64(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}

func toPolicyStats(s sdwan.PolicyStats) *model.PolicyStats {
	return &model.PolicyStats{
		PolicyID: strconv.FormatInt(s.PolicyID, 10), SiteID: strPtr(s.SiteID), Timestamp: s.Timestamp,
		PacketsMatched: clampInt64(s.PacketsMatched), BytesMatched: clampInt64(s.BytesMatched), ActiveFlows: clampInt64(s.ActiveFlows),
	}
}

func toUser(u sdwan.User) *model.User {
	return &model.User{ID: u.ID, Name: u.Name, Role: apiRole(u.Role), Active: u.Active,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastLogin: u.LastLogin}
}

func toAPIKey(k store.APIKey) *model.APIKey {
	prefix := "pat_" + k.Prefix
	if k.SiteID != "" {
		prefix = "pse_" + k.Prefix
	}
	return &model.APIKey{ID: k.ID, Prefix: prefix, Name: k.Name, Role: apiRole(k.Role),
		UserID: strPtr(k.UserID), SiteID: strPtr(k.SiteID), CreatedAt: k.CreatedAt, LastUsed: k.LastUsed, RevokedAt: k.RevokedAt}
}

func toSeverity(s sdwan.Severity) model.Severity {
	if s == "" {
		return model.SeverityInfo
	}
	return model.Severity(strings.ToUpper(string(s)))
}

func toAudit(e sdwan.AuditEntry) *model.AuditEntry {
	return &model.AuditEntry{
		ID: strconv.FormatInt(e.ID, 10), At: e.At, Actor: e.Actor, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, Summary: e.Summary, Severity: toSeverity(e.Severity),
		UserID: e.Actor, EventType: e.Action, Description: e.Summary, Timestamp: e.At,
	}
}

// eventKinds maps the bus's kinds to the API's enum and back.
var eventKinds = map[events.Kind]model.EventKind{
	events.SiteCreated:     model.EventKindSiteCreated,
	events.SiteUpdated:     model.EventKindSiteUpdated,
	events.SiteDeleted:     model.EventKindSiteDeleted,
	events.SiteSoftDeleted: model.EventKindSiteSoftDeleted,
	events.SiteRestored:    model.EventKindSiteRestored,
	events.EndpointChanged: model.EventKindEndpointChanged,
	events.PathChanged:     model.EventKindPathChanged,
	events.PathState:       model.EventKindPathState,
	events.PathMetrics:     model.EventKindPathMetrics,
	events.PathFailover:    model.EventKindPathFailover,
	events.PolicyChanged:   model.EventKindPolicyChanged,
	events.PolicyDeleted:   model.EventKindPolicyDeleted,
	events.AuditWritten:    model.EventKindAudit,
	events.Alert:           model.EventKindAlert,
	events.CacheCleared:    model.EventKindCacheCleared,
	events.UserChanged:     model.EventKindUserChanged,
}

func toEvent(e events.Event) *model.Event {
	out := &model.Event{
		Kind: eventKinds[e.Kind], At: e.At, SiteID: strPtr(e.SiteID), PathID: strPtr(e.PathID),
		UserID: strPtr(e.UserID), Summary: e.Summary, Origin: e.Origin,
	}
	if out.Kind == "" {
		out.Kind = model.EventKindAlert
	}
	if e.PolicyID != 0 {
		out.PolicyID = ptr(strconv.FormatInt(e.PolicyID, 10))
	}
	if e.AuditID != 0 {
		out.AuditID = ptr(strconv.FormatInt(e.AuditID, 10))
	}
	if e.Severity != "" {
		out.Severity = ptr(toSeverity(sdwan.Severity(e.Severity)))
	}
	return out
}

// parsePolicyID parses a policy ID argument.
func parsePolicyID(field, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, badInput(field, s, "is not a policy ID (a positive number such as 1)")
	}
	return id, nil
}

// pageOf converts an optional page argument; all reports that the caller
// asked for no window, so the whole list is wanted.
func pageOf(p *model.PageInput) (pg store.Page, all bool, err error) {
	if p == nil {
		return store.Page{}, true, nil
	}
	if p.Limit != nil {
		if *p.Limit < 1 || *p.Limit > store.MaxLimit {
			return pg, false, badInput("page.limit", strconv.Itoa(*p.Limit), fmt.Sprintf("must be between 1 and %d", store.MaxLimit))
		}
		pg.Limit = *p.Limit
	}
	if p.Offset != nil {
		if *p.Offset < 0 {
			return pg, false, badInput("page.offset", strconv.Itoa(*p.Offset), "must be zero or more")
		}
		pg.Offset = *p.Offset
	}
	return pg, p.Limit == nil, nil
}

// maxListRows bounds an unpaged list, so one query cannot make the
// controller read an unbounded table into memory.
const maxListRows = 100_000

// listAll reads a list in pages of store.MaxLimit when the caller asked for
// all of it, or the one window asked for.
func listAll[T any](p *model.PageInput, fetch func(store.Page) ([]T, int, error)) ([]T, error) {
	pg, all, err := pageOf(p)
	if err != nil {
		return nil, err
	}
	if !all {
		rows, _, err := fetch(pg)
		return rows, err
	}
	var out []T
	for {
		rows, total, err := fetch(store.Page{Limit: store.MaxLimit, Offset: pg.Offset + len(out)})
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if len(rows) == 0 || pg.Offset+len(out) >= total || len(out) >= maxListRows {
			return out, nil
		}
	}
}

var _ = graphql.Null

// parsePrefixes parses a list of prefixes given as text, each as
// sdwan.ParsePrefixes reads them (a bare address is a host prefix; host
// bits are refused), naming the field and index of the first that is not
// one.
func parsePrefixes(field string, txts []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, txt := range txts {
		ps, err := sdwan.ParsePrefixes(fmt.Sprintf("%s[%d]", field, i), txt)
		if err != nil {
			return nil, err
		}
		if len(ps) != 1 {
			return nil, badInput(fmt.Sprintf("%s[%d]", field, i), txt, "is not one network prefix such as 10.1.0.0/16")
		}
		out = append(out, ps[0])
	}
	return out, nil
}
