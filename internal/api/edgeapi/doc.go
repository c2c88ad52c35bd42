// Package edgeapi is the protocol between the controller and its edges:
// the desired configuration an edge reconciles to, the stream that tells
// it of changes and asks it for on-demand checks, and the reports (path
// metrics every second, state changes at once, check results) it sends
// back.
//
// It is plain HTTP with JSON, authenticated by the site credential as a
// bearer token:
//
//	GET  /api/v1/edge/config            the site's desired configuration (ETag; If-None-Match gives 304)
//	GET  /api/v1/edge/stream?since=V    newline-delimited JSON Messages: a config whenever it differs
//	                                    from version V, on-demand checks and failovers, and a ping every PingInterval
//	POST /api/v1/edge/metrics           a MetricsBatch
//	POST /api/v1/edge/states            a StateBatch
//	POST /api/v1/edge/checks/{id}       a CheckResult: the answer to a check or a failover
//
// Why a stream of newline-delimited JSON over one long GET rather than
// long polls or a WebSocket: the controller must push checks as well as
// configurations, a long poll would need a second channel for them, and a
// WebSocket adds a framing layer and an upgrade that proxies and the
// standard library's client do not need for a one-way stream. The edge
// sends its reports as ordinary POSTs, so each one is acknowledged, and
// detects a dead stream by the missing pings.
//
// The package holds the wire types, the HTTP handler (over the Backend
// interface the controller implements, so this package does not depend on
// the controller's services) and the edge's client.
package edgeapi
