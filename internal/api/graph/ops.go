package graph

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// opMetrics counts GraphQL operations by name and type, and login
// failures, on the controller's registry.
type opMetrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	loginFailures *prometheus.CounterVec

	mu    sync.Mutex
	names map[string]bool // operation names seen, bounded by maxOpNames
}

// maxOpNames bounds the operation label's values: clients choose operation
// names, and an unbounded label would let them grow the registry without
// limit. Names past the bound, and names that are not identifiers, count
// as "other".
const maxOpNames = 200

var opNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func newOpMetrics(reg prometheus.Registerer) (*opMetrics, error) {
	m := &opMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patronus_graphql_requests_total",
			Help: "GraphQL operations by operation name, type (query, mutation, subscription) and outcome (ok or error).",
		}, []string{"operation", "type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "patronus_graphql_request_duration_seconds",
			Help:    "Time to answer a GraphQL query or mutation, by operation name and type.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation", "type"}),
		loginFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patronus_login_failures_total",
			Help: "Failed sign-ins by reason (credentials or rate_limited).",
		}, []string{"reason"}),
		names: map[string]bool{},
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.loginFailures} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("graph: register metrics: %w", err)
		}
	}
	// Export the failure counters at zero, so an alert on their rate has a
	// series to start from.
	m.loginFailures.WithLabelValues("credentials")
	m.loginFailures.WithLabelValues("rate_limited")
	return m, nil
}

func (m *opMetrics) label(name string) string {
	if name == "" {
		return "anonymous"
	}
	if !opNameRE.MatchString(name) {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.names[name] {
		return name
	}
	if len(m.names) >= maxOpNames {
		return "other"
	}
	m.names[name] = true
	return name
}

// observe is a response middleware: it times each response of an
// operation (for a subscription, each event) and counts its outcome.
func (m *opMetrics) observe(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if !graphql.HasOperationContext(ctx) {
		return resp
	}
	oc := graphql.GetOperationContext(ctx)
	typ := "unknown"
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
	}
	name := m.label(oc.OperationName)
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "error"
	}
	m.requests.WithLabelValues(name, typ, outcome).Inc()
	if typ != string(ast.Subscription) {
		m.duration.WithLabelValues(name, typ).Observe(time.Since(start).Seconds())
	}
	return resp
}

// depthLimit rejects operations nested deeper than Max fields, before they
// run. Complexity bounds how many fields a query asks for; depth bounds
// how far it can follow references (site -> paths -> srcSite -> paths ...).
type depthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, 0); depth > d.Max {
		err := gqlerror.Errorf("operation is nested %d fields deep; the limit is %d", depth, d.Max)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

// selectionDepth is the deepest chain of fields in a selection set, through
// fragments. Validation has already rejected fragment cycles; seen guards
// against them anyway.
func selectionDepth(ss ast.SelectionSet, seen int) int {
	if seen > 64 {
		return seen
	}
	best := 0
	for _, s := range ss {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Name) > 1 && s.Name[:2] == "__" {
				continue // introspection has its own fixed shape
			}
			d = 1 + selectionDepth(s.SelectionSet, seen+1)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, seen+1)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet, seen+1)
			}
		}
		best = max(best, d)
	}
	return best
}
