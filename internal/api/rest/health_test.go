package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestReady(t *testing.T) {
	ok := Check{Name: "store", Fn: func(context.Context) error { return nil }}
	bad := Check{Name: "migrations", Fn: func(context.Context) error { return errors.New("2 pending") }}
	tests := []struct {
		name   string
		checks []Check
		status int
	}{
		{"all pass", []Check{ok}, http.StatusOK},
		{"one fails", []Check{ok, bad}, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Ready(time.Second, tt.checks...).ServeHTTP(rec, httptest.NewRequest("GET", "/health/ready", nil))
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			var body struct {
				Checks []CheckResult `json:"checks"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Checks) != len(tt.checks) || body.Checks[0].Name != "store" {
				t.Errorf("checks = %+v", body.Checks)
			}
		})
	}
}
