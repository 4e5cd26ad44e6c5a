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
  run env CREST_BIN="$bin" go test -tags e2e -run '^$' -bench '^Benchmark(Query|Funnel|Retention|Sessions)' -benchtime 5x -timeout 120m ./e2e

  # The same data on the engine alone: the funnel kernel against plain SQL
  # (one case per process, for each one's peak RSS), and hot property
  # columns against JSON. The e2e benchmarks above leave the loaded data here.
  cache=${TMPDIR:-/tmp}/crest-querybench-v2-10000000-seed1
  if [ -f "$cache/events.duckdb" ]; then
    echo "== engine alone over the same 10M events ==" | tee -a "$out"
    work=$(mktemp -d)
    cp "$cache"/events.duckdb* "$work"/
    go test -c -o "$work/duckdb.test" ./internal/storage/duckdb
    for c in funnel-3-step-1d-90d funnel-3-step-1d-90d-sql funnel-3-step-1d-90d-grouped retention-30d-nday \
      sessions-average-90d sessions-length-90d sessions-contains-90d sessions-events-90d; do
      run env CREST_FUNNEL_BENCH_DB="$work/events.duckdb" "$work/duckdb.test" -test.run '^$' \
        -test.bench "BenchmarkFunnelEngine/$c\$" -test.benchtime 5x
    done
    run env CREST_FUNNEL_BENCH_DB="$work/events.duckdb" "$work/duckdb.test" -test.run '^$' -test.bench BenchmarkQuerySQL -test.benchtime 7x
    rm -rf "$work"
    # A dashboard of six charts in Chromium (when the machine has it).
    if command -v chromium >/dev/null 2>&1 && [ -d ui/node_modules ]; then
      echo "== dashboard of six charts over the same events ==" | tee -a "$out"
      run env CREST_BIN="$bin" CREST_PERF_DATA="$cache" RUNS=9 bash -c 'cd ui && node e2e/dashboard-perf.mjs'
    fi
  fi
fi
echo "results in $out"
