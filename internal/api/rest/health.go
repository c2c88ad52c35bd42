package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// Check is one readiness check: a name and a function that returns nil
// when that dependency is fit to serve.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// CheckResult is one check's outcome in the readiness body.
type CheckResult struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
	Latency string `json:"latency"`
}

// Health answers 200 while the process serves.
func Health(version string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version})
	})
}

// Ready runs every check with a timeout and answers 200 only if all pass,
// 503 otherwise, with a JSON body naming each check.
func Ready(timeout time.Duration, checks ...Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		status, out := http.StatusOK, make([]CheckResult, 0, len(checks))
		for _, c := range checks {
			start := time.Now()
			err := c.Fn(ctx)
			res := CheckResult{Name: c.Name, OK: err == nil, Latency: time.Since(start).Round(time.Microsecond).String()}
			if err != nil {
				res.Error = err.Error()
				status = http.StatusServiceUnavailable
			}
			out = append(out, res)
		}
		state := "ready"
		if status != http.StatusOK {
			state = "not ready"
		}
		writeJSON(w, status, map[string]any{"status": state, "checks": out})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// statuses gives the HTTP status of each error code.
var statuses = map[string]int{
	sdwan.CodeUnauthenticated: http.StatusUnauthorized,
	sdwan.CodeForbidden:       http.StatusForbidden,
	sdwan.CodeNotFound:        http.StatusNotFound,
	sdwan.CodeConflict:        http.StatusConflict,
	sdwan.CodeBadInput:        http.StatusBadRequest,
	sdwan.CodeUnavailable:     http.StatusServiceUnavailable,
	sdwan.CodeInternal:        http.StatusInternalServerError,
}

// WriteError writes err as a JSON error with the status its kind maps to.
// Internal errors are not shown to the caller.
func WriteError(w http.ResponseWriter, err error) {
	code := sdwan.Code(err)
	msg := err.Error()
	if code == sdwan.CodeInternal {
		msg = "internal error"
	}
	writeJSON(w, statuses[code], map[string]string{"error": msg, "code": code})
}
