# Crest: the two commands a new user needs are `make run` and `make test`.
GO       ?= go
BIN      := bin/crest
DATA     ?= ./crest-data
ADDR     ?= :8080
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 10s
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build ui run test test-go test-fuzz test-e2e test-ui test-ui-e2e bench check fmt vet staticcheck clean

all: build

# build compiles the single crest binary (the web app is embedded).
build: ui
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/crest

# ui builds the web app (ui/, React + Vite) into internal/web/dist, which
# the binary embeds; npm ci runs first when ui/node_modules is missing or
# older than the lock file. Without Node, go build still works and serves
# a stub page (internal/web/stub.html).
UI_SRC := $(shell find ui/src ui/public -type f 2>/dev/null) ui/index.html ui/package.json ui/vite.config.ts ui/tsconfig.json

ui: internal/web/dist/index.html

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund

internal/web/dist/index.html: ui/node_modules/.package-lock.json $(UI_SRC)
	cd ui && npm run build

# run builds what it needs and starts crest serve on the embedded default,
# printing the URL and the default project's API key; on an empty data
# directory it offers to load the demo app's events.
run: build
	DATA=$(DATA) ADDR=$(ADDR) BIN=$(BIN) bash scripts/run.sh

# test runs every test: unit and data-driven tests with the race detector,
# brief fuzzing of the decoders, and end-to-end tests of the real binary.
test: test-go test-fuzz test-e2e test-ui test-ui-e2e

test-go:
	$(GO) test -race -count=1 ./...

test-fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./internal/ingest
	$(GO) test -run='^$$' -fuzz='^FuzzReader$$' -fuzztime=$(FUZZTIME) ./internal/wal
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeBatch$$' -fuzztime=$(FUZZTIME) ./internal/event

test-e2e: build
	CREST_BIN=$(abspath $(BIN)) $(GO) test -count=1 -tags e2e -timeout 20m ./e2e/...

# test-ui runs the web app's type check and unit tests (vitest).
test-ui: ui/node_modules/.package-lock.json
	cd ui && npx tsc --noEmit && npx vitest run

# test-ui-e2e drives the real binary's web app in Chromium (playwright-core
# with /usr/bin/chromium; CHROMIUM overrides the path). Screenshots go to
# ui/e2e/screenshots/.
test-ui-e2e: build
	cd ui && CREST_BIN=$(abspath $(BIN)) node --test --test-concurrency=1 e2e/

# bench runs the Go benchmarks, including the end-to-end ingestion benchmark
# against the real binary; see docs/benchmarks.md for the figures.
bench: build
	bash scripts/bench.sh

check: fmt vet staticcheck test

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...

staticcheck:
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags e2e ./e2e/...

clean:
	rm -rf bin
