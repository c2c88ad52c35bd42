# Patronus build and test targets. `make test` is the command CI runs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: all build web test test-go test-lab test-root test-web test-short lint vuln generate fmt bench demo clean

all: build

build: web
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/patronus ./cmd/patronus

# The dashboard: web/ built by Vite into internal/web/dist/app, which the
# binary embeds. Without npm the binary still builds and serves a page
# saying how to build the dashboard.
NPM ?= npm
web:
	@if command -v $(NPM) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory web/node_modules/.package-lock.json && cd web && $(NPM) run build; \
	else \
		echo "make web: npm not found; building without the dashboard (install Node.js 20+ and npm)" >&2; \
	fi

web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && $(NPM) ci --no-audit --no-fund

# The whole suite, race detector on. PostgreSQL and Redis tests run when
# PATRONUS_TEST_POSTGRES and PATRONUS_TEST_REDIS name servers (.ci/run sets
# both); root-only tests run when run as root.
test: test-go test-lab test-root test-web

test-go:
	$(GO) test -race -timeout 20m ./...

# The lab's measurement scenarios (accuracy, detection, stability,
# overhead, failover gap, policy changes, accounting) time real packets. They
# run one at a time (-parallel 1), so that none measures another's load, and
# without the race detector, whose pauses would be measured as path faults
# (they skip under -race).
test-lab:
	$(GO) test -count=1 -parallel 1 -timeout 10m -run 'TestAccuracy|TestDetection|TestStability|TestOverhead|TestFailoverGap|TestPolicyMovesTraffic|TestAccounting' -v ./internal/lab

# The tests that need root: kernel TUN devices in network namespaces,
# interoperation with the stock wireguard-go and wg, the throughput figure
# beside plain wireguard-go, the edge's TUN address and routes, and the lab
# with its site LANs in namespaces. They run when make runs as root (as CI
# does) and are skipped otherwise; one package at a time (-p 1), so that the
# throughput figure does not measure another package's traffic.
test-root:
	@if [ "$$(id -u)" = 0 ]; then \
		$(GO) test -count=1 -p 1 -timeout 8m -run 'TestRoot' -v ./internal/edge/dataplane ./internal/edge/route ./internal/lab -run-root-tests; \
	else \
		echo "make test-root: not root; skipping the TUN and network-namespace tests"; \
	fi

# Dashboard tests: Vitest for the data logic, then the browser tests in
# Debian's Chromium (/usr/bin/chromium) against the binary built above.
test-web: build
	cd web && $(NPM) run test:unit && PATRONUS_BIN=$(CURDIR)/bin/patronus $(NPM) run test:e2e

test-short:
	$(GO) test -short ./...

lint:
	$(GO) tool golangci-lint run ./...

vuln:
	$(GO) tool govulncheck ./...

generate:
	$(GO) generate ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: build
	./bin/patronus demo

clean:
	rm -rf bin
