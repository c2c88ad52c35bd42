package rest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// Authenticator turns a bearer credential into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (auth.Principal, error)
}

// StatsRows streams statistics rows for an export.
type StatsRows interface {
	PolicyStatsRows(ctx context.Context, q store.StatsQuery) iter.Seq2[sdwan.PolicyStats, error]
}

// MaxExportRange bounds one export's time range.
const MaxExportRange = 400 * 24 * time.Hour

// Export serves GET /api/v1/stats/export?format=csv|json|ndjson&from=&to=
// [&policy=ID][&site=ID|*][&step=DURATION]. Rows are written as they are
// read from the store, so memory stays flat however long the range; a
// viewer may export.
func Export(authn Authenticator, rows func() StatsRows) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := authn.Authenticate(r.Context(), BearerToken(r))
		if err != nil {
			WriteError(w, err)
			return
		}
		if !p.Role.AtLeast(sdwan.RoleViewer) {
			WriteError(w, fmt.Errorf("%w: exporting statistics needs the viewer role or above", sdwan.ErrForbidden))
			return
		}
		q, format, err := parseExport(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		seq := rows().PolicyStatsRows(r.Context(), q)
		name := fmt.Sprintf("patronus-stats-%s-%s", q.From.Format("20060102T150405Z"), q.To.Format("20060102T150405Z"))
		f := exportFormats[format]
		w.Header().Set("Content-Type", f.contentType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.`+format+`"`)
		f.write(w, seq)
	})
}

// exportFormats are the formats Export writes, by their name in the query,
// which is also the file name's extension.
var exportFormats = map[string]struct {
	contentType string
	write       func(http.ResponseWriter, iter.Seq2[sdwan.PolicyStats, error])
}{
	"csv":    {"text/csv; charset=utf-8", writeCSV},
	"json":   {"application/json", writeJSONArray},
	"ndjson": {"application/x-ndjson", writeNDJSON},
}

// BearerToken extracts the credential of an "Authorization: Bearer …"
// header.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func parseExport(r *http.Request) (store.StatsQuery, string, error) {
	v := r.URL.Query()
	bad := func(field, value, reason string) error {
		return &sdwan.FieldError{Field: field, Value: value, Reason: reason}
	}
	format := strings.ToLower(v.Get("format"))
	if format == "" {
		format = "csv"
	}
	if _, ok := exportFormats[format]; !ok {
		return store.StatsQuery{}, "", bad("format", v.Get("format"), "must be csv, json or ndjson")
	}
	var q store.StatsQuery
	var err error
	if q.From, err = time.Parse(time.RFC3339, v.Get("from")); err != nil {
		return q, "", bad("from", v.Get("from"), "must be an RFC 3339 time such as 2026-11-27T00:00:00Z")
	}
	if q.To, err = time.Parse(time.RFC3339, v.Get("to")); err != nil {
		return q, "", bad("to", v.Get("to"), "must be an RFC 3339 time such as 2026-11-28T00:00:00Z")
	}
	if !q.To.After(q.From) {
		return q, "", bad("to", v.Get("to"), "must be after from ("+v.Get("from")+")")
	}
	if q.To.Sub(q.From) > MaxExportRange {
		return q, "", bad("to", v.Get("to"), "is more than 400 days after from; export in parts")
	}
	if s := v.Get("policy"); s != "" {
		if q.PolicyID, err = strconv.ParseInt(s, 10, 64); err != nil || q.PolicyID <= 0 {
			return q, "", bad("policy", s, "must be a policy ID (a positive integer)")
		}
	}
	q.SiteID = v.Get("site") // "" = the all-sites rows; "*" = every site's rows
	if s := v.Get("step"); s != "" {
		if q.Step, err = time.ParseDuration(s); err != nil || q.Step < time.Second {
			return q, "", bad("step", s, "must be a duration of at least 1s, such as 5m or 1h")
		}
	}
	return q, format, nil
}

// exportRow is the JSON form of one row.
type exportRow struct {
	Timestamp      time.Time `json:"timestamp"`
	PolicyID       int64     `json:"policy_id"`
	SiteID         string    `json:"site_id,omitempty"`
	PacketsMatched uint64    `json:"packets_matched"`
	BytesMatched   uint64    `json:"bytes_matched"`
	ActiveFlows    uint64    `json:"active_flows"`
}

func toExport(r sdwan.PolicyStats) exportRow {
	return exportRow{Timestamp: r.Timestamp.UTC(), PolicyID: r.PolicyID, SiteID: r.SiteID,
		PacketsMatched: r.PacketsMatched, BytesMatched: r.BytesMatched, ActiveFlows: r.ActiveFlows}
}

// flushEvery bounds how many rows sit in the response buffer.
const flushEvery = 1024

// A failure after the first byte cannot change the status code; it is
// reported in-band, as a last CSV comment line or JSON error object, so a
// truncated export never passes for a complete one.

func writeCSV(w http.ResponseWriter, seq iter.Seq2[sdwan.PolicyStats, error]) {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"timestamp", "policy_id", "site_id", "packets_matched", "bytes_matched", "active_flows"})
	rec := make([]string, 6)
	n := 0
	for r, err := range seq {
		if err != nil {
			cw.Flush()
			fmt.Fprintf(w, "# export failed: %v\n", err)
			return
		}
		rec[0] = r.Timestamp.UTC().Format(time.RFC3339Nano)
		rec[1] = strconv.FormatInt(r.PolicyID, 10)
		rec[2] = r.SiteID
		rec[3] = strconv.FormatUint(r.PacketsMatched, 10)
		rec[4] = strconv.FormatUint(r.BytesMatched, 10)
		rec[5] = strconv.FormatUint(r.ActiveFlows, 10)
		_ = cw.Write(rec)
		if n++; n%flushEvery == 0 {
			cw.Flush()
			flush(w)
		}
	}
	cw.Flush()
}

func writeJSONArray(w http.ResponseWriter, seq iter.Seq2[sdwan.PolicyStats, error]) {
	enc := json.NewEncoder(w)
	_, _ = w.Write([]byte("[\n"))
	n := 0
	for r, err := range seq {
		if n > 0 {
			_, _ = w.Write([]byte(","))
		}
		if err != nil {
			_ = enc.Encode(map[string]string{"error": "export failed: " + err.Error()})
			break
		}
		_ = enc.Encode(toExport(r))
		if n++; n%flushEvery == 0 {
			flush(w)
		}
	}
	_, _ = w.Write([]byte("]\n"))
}

func writeNDJSON(w http.ResponseWriter, seq iter.Seq2[sdwan.PolicyStats, error]) {
	enc := json.NewEncoder(w)
	n := 0
	for r, err := range seq {
		if err != nil {
			_ = enc.Encode(map[string]string{"error": "export failed: " + err.Error()})
			return
		}
		_ = enc.Encode(toExport(r))
		if n++; n%flushEvery == 0 {
			flush(w)
		}
	}
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
