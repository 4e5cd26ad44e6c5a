#!/usr/bin/env bash
# `make bench`: the benchmarks behind docs/benchmarks.md. Each section
# measures its baseline in the same run, so figures compare as ratios on a
# noisy machine. Output goes to stdout and to bench-results.txt.
#   BENCH_COUNT       repetitions of each micro benchmark (default 5)
#   CREST_BENCH_EVENTS events of the end-to-end ingestion run (default 1,000,000)
#   BENCH_QUERIES=0   skips the query benchmarks over 10M demo events
set -euo pipefail
cd "$(dirname "$0")/.."
count=${BENCH_COUNT:-5}
bin=$(pwd)/bin/crest
out=bench-results.txt
: > "$out"
run() { echo "\$ $*" | tee -a "$out"; "$@" 2>&1 | tee -a "$out"; }

echo "== hot paths (micro benchmarks) ==" | tee -a "$out"
run go test -run '^$' -benchmem -count "$count" \
  -bench '^(BenchmarkDecode|BenchmarkAppend|BenchmarkAppendSerial|BenchmarkProcess|BenchmarkEnrich|BenchmarkGenerate)$' \
  ./internal/ingest ./internal/wal ./internal/identity ./internal/enrich ./internal/demo
run go test -run '^$' -benchmem -count 3 -benchtime 20x \
  -bench '^(BenchmarkApply|BenchmarkInsertSelectBaseline)$' ./internal/storage/duckdb
run go test -run '^$' -benchtime 1x -bench '^BenchmarkMemoryPerUser$' ./internal/identity

echo "== end-to-end durable ingestion through /batch ==" | tee -a "$out"
run env CREST_BIN="$bin" go test -tags e2e -run '^$' -bench '^BenchmarkIngestBatch$' -benchtime 1x -count 3 -timeout 60m ./e2e

if [ "${BENCH_QUERIES:-1}" != 0 ]; then
  echo "== analyses over 10M demo events ==" | tee -a "$out"
  run env CREST_BIN="$bin" go test -tags e2e -run '^$' -bench '^Benchmark(Query|Funnel|Retention|Sessions)' -benchtime 1x -timeout 120m ./e2e
fi
echo "results in $out"
