# Patronus build and test targets. `make test` is the command CI runs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: all build test test-short lint vuln generate fmt bench demo clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/patronus ./cmd/patronus

# The whole suite, race detector on. PostgreSQL and Redis tests run when
# PATRONUS_TEST_POSTGRES and PATRONUS_TEST_REDIS name servers (.ci/run sets
# both); root-only tests run when run as root.
test:
	$(GO) test -race -timeout 20m ./...

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
