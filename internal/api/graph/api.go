package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/patronus-sdwan/patronus/internal/api/rest"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/stats"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// Options is what the API needs. Service is required; the rest have
// defaults.
type Options struct {
	Service *control.Service
	// Stats gives live traffic totals (packets_matched, bytes_matched);
	// nil means an empty aggregator, so the figures read zero until edges
	// report.
	Stats StatsSource
	// Edges reaches connected edges; nil means NoEdges.
	Edges EdgeHub
	// Caches are the read-path caches; zero means LocalCaches().
	Caches Caches
	// Registerer receives the API's metrics; nil means none are exported.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Version    string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Checks are the readiness checks systemHealth and systemHealthCheck
	// run.
	Checks []rest.Check

	// MaxBodyBytes bounds a request body; zero means 1 MiB.
	MaxBodyBytes int64
	// ComplexityLimit bounds an operation's fields (gqlgen's complexity,
	// each field 1); zero means 1000.
	ComplexityLimit int
	// DepthLimit bounds how deeply an operation nests fields; zero means 12.
	DepthLimit int
	// KeepAlive is the WebSocket ping interval; zero means 15 s.
	KeepAlive time.Duration
}

// API is the GraphQL endpoint: an http.Handler for POST /graphql and the
// WebSocket upgrade on GET /graphql.
type API struct {
	svc     *control.Service
	st      *store.Store
	bus     *events.Bus
	stats   StatsSource
	edges   atomic.Pointer[EdgeHub]
	caches  Caches
	log     *slog.Logger
	now     func() time.Time
	version string
	checks  []rest.Check
	started time.Time
	maxBody int64

	policyViews atomic.Pointer[policyViews]

	public map[string]bool
	// exec is the generated schema, for the policies list writer
	// (listwriter.go); nil turns the writer off.
	exec    *executableSchema
	ops     *opMetrics
	sampler *sampler
	srv     *handler.Server
	h       http.Handler
}

// New builds the API and registers its cache invalidator with the service.
func New(cfg Options) (*API, error) {
	if cfg.Service == nil {
		return nil, errors.New("graph: a service is required")
	}
	a := &API{
		svc: cfg.Service, st: cfg.Service.Store(), bus: cfg.Service.Bus(),
		stats: cfg.Stats, caches: cfg.Caches, log: cfg.Logger, now: cfg.Now,
		version: cfg.Version, checks: cfg.Checks, maxBody: cfg.MaxBodyBytes,
	}
	if a.stats == nil {
		a.stats = stats.NewAggregator()
	}
	a.SetEdges(cfg.Edges)
	if a.caches.Metrics == nil || a.caches.Routing == nil {
		a.caches = LocalCaches()
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.maxBody <= 0 {
		a.maxBody = 1 << 20
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry() // metrics kept but not exported
	}
	var err error
	if a.ops, err = newOpMetrics(reg); err != nil {
		return nil, err
	}
	a.started = a.now()
	a.sampler = newSampler(a)
	a.svc.AddInvalidator(invalidator{a.caches, a.log})

	es := NewExecutableSchema(Config{Resolvers: &Resolver{a}, Directives: DirectiveRoot{HasRole: hasRole, Public: public}})
	a.public = publicFields(es.Schema())
	a.exec, _ = es.(*executableSchema)
	srv := handler.New(es)
	keepAlive := cfg.KeepAlive
	if keepAlive <= 0 {
		keepAlive = 15 * time.Second
	}
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: keepAlive,
		InitTimeout:           10 * time.Second,
		InitFunc:              a.initWebsocket,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(postJSON{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{}) // for signed-in callers: requireAuth guards __schema
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	limit := cfg.ComplexityLimit
	if limit <= 0 {
		limit = 1000
	}
	srv.Use(extension.FixedComplexityLimit(limit))
	depth := cfg.DepthLimit
	if depth <= 0 {
		depth = 12
	}
	srv.Use(depthLimit{Max: depth})
	srv.SetErrorPresenter(presentError(a.log))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		a.log.ErrorContext(ctx, "graphql: panic in resolver", "panic", v)
		return errors.New("internal error")
	})
	srv.AroundRootFields(a.requireAuth)
	srv.AroundOperations(a.perOperation)
	srv.AroundResponses(a.ops.observe)
	a.srv = srv

	a.h = promhttp.InstrumentHandlerDuration(
		httpDuration(reg),
		http.HandlerFunc(a.serve),
	)
	return a, nil
}

// httpDuration is the HTTP-level histogram of the /graphql handler.
func httpDuration(reg prometheus.Registerer) prometheus.ObserverVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:        "patronus_http_request_duration_seconds",
		Help:        "Time to answer HTTP requests, by handler, method and status code.",
		ConstLabels: prometheus.Labels{"handler": "graphql"},
		Buckets:     prometheus.DefBuckets,
	}, []string{"method", "code"})
	if err := reg.Register(h); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector.(*prometheus.HistogramVec)
		}
	}
	return h
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > a.maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, a.maxBody))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.maxBody)
	ctx := r.Context()
	ctx = withCaller(ctx, a.authenticate(ctx, bearer(r.Header.Get("Authorization")), clientAddr(r)))
	a.srv.ServeHTTP(w, r.WithContext(ctx))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": CodeBadInput}}}})
}

// initWebsocket authenticates a WebSocket connection from its
// connection_init payload: {"Authorization": "Bearer …"} or {"token": "…"}.
// A connection without valid credentials is refused, and one whose
// credentials stop being honoured is closed (watchCredential).
func (a *API) initWebsocket(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	cred := bearer(p.Authorization())
	if cred == "" {
		cred = p.GetString("token")
	}
	old := callerFrom(ctx)
	c := a.authenticate(ctx, cred, old.client)
	if cred == "" && old.p.Role != "" {
		c = old // credentials came on the upgrade request's header
	}
	if c.err != nil {
		return ctx, nil, c.err
	}
	if c.p.Role == "" {
		return ctx, nil, errSignIn
	}
	return a.watchCredential(withCaller(ctx, c), c), nil, nil
}

// perOperation gives each query and mutation its own dataloaders.
func (a *API) perOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation != nil && oc.Operation.Operation != ast.Subscription {
		ctx = withLoaders(ctx, a.newLoaders())
	}
	return next(ctx)
}

// Run runs the API's background work until ctx ends: the metrics history
// sampler and, for process-local caches, invalidation on other replicas'
// events.
func (a *API) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.watchRemote(ctx)
	}()
	a.sampler.run(ctx)
	<-done
}

// SetEdges connects the API to the edges (checkPathHealth, failoverPath);
// nil disconnects it, so those operations report that no edge is
// connected. The controller calls it when it starts serving edges, which
// happens after the API is mounted.
func (a *API) SetEdges(h EdgeHub) {
	if h == nil {
		h = NoEdges{}
	}
	a.edges.Store(&h)
}

func (a *API) edgeHub() EdgeHub { return *a.edges.Load() }

// Stats returns the source of live traffic totals the API reads.
func (a *API) Stats() StatsSource { return a.stats }
