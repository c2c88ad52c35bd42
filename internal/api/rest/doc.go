// Package rest serves the controller's plain HTTP endpoints: liveness
// (/health), readiness (/health/ready), Prometheus metrics (/metrics) and
// the statistics export. Errors map to status codes in one place
// (writeError), as in Prometheus's web API.
package rest
