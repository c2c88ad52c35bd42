package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// statusOf maps a domain error to an HTTP status; the one place that does.
func statusOf(err error) int {
	switch {
	case errors.Is(err, sdwan.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, sdwan.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, sdwan.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, sdwan.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, sdwan.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, sdwan.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// WriteError writes err as a JSON error with the status its kind maps to.
// Internal errors are not shown to the caller.
func WriteError(w http.ResponseWriter, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		msg = "internal error"
	}
	writeJSON(w, status, map[string]string{"error": msg, "code": codeOf(status)})
}

func codeOf(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "FORBIDDEN"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "CONFLICT"
	case http.StatusBadRequest:
		return "BAD_INPUT"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	}
	return fmt.Sprintf("HTTP_%d", status)
}
