# Crest: the two commands a new user needs are `make run` and `make test`.
GO       ?= go
BIN      := bin/crest
DATA     ?= ./crest-data
ADDR     ?= :8080
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 10s
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build run test test-go test-fuzz test-e2e bench check fmt vet staticcheck clean

all: build

# build compiles the single crest binary (the web app is embedded).
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/crest

# run builds what it needs and starts crest serve on the embedded default,
# printing the URL and the default project's API key; on an empty data
# directory it offers to load the demo app's events.
run: build
	DATA=$(DATA) ADDR=$(ADDR) BIN=$(BIN) bash scripts/run.sh

# test runs every test: unit and data-driven tests with the race detector,
# brief fuzzing of the decoders, and end-to-end tests of the real binary.
test: test-go test-fuzz test-e2e

test-go:
	$(GO) test -race -count=1 ./...

test-fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./internal/ingest
	$(GO) test -run='^$$' -fuzz='^FuzzReader$$' -fuzztime=$(FUZZTIME) ./internal/wal
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeBatch$$' -fuzztime=$(FUZZTIME) ./internal/event

test-e2e: build
	CREST_BIN=$(abspath $(BIN)) $(GO) test -count=1 -tags e2e -timeout 20m ./e2e/...

# bench runs the Go benchmarks, including the end-to-end ingestion benchmark
# against the real binary; see docs/benchmarks.md for the figures.
bench: build
	CREST_BIN=$(abspath $(BIN)) $(GO) test -run='^$$' -bench=. -benchmem -count=1 -timeout 60m ./internal/... 
	CREST_BIN=$(abspath $(BIN)) $(GO) test -run='^$$' -bench=. -benchmem -count=1 -timeout 60m -tags e2e ./e2e/...

check: fmt vet staticcheck test

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(STATICCHECK) ./...

clean:
	rm -rf bin
