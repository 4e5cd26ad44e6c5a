//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/storage/clickhouse"
)

// BenchmarkQueryBackends runs the same analyses over the same demo data
// (CREST_BENCH_EVENTS, default 10M, loaded once by loadedServer) on the
// embedded DuckDB store and on ClickHouse (CREST_TEST_CLICKHOUSE; the
// data is copied there once with `crest migrate`), checks that both give
// the same answer, and reports each one's median latency and their
// ratio (docs/benchmarks.md).
func BenchmarkQueryBackends(b *testing.B) {
	chDSN := os.Getenv("CREST_TEST_CLICKHOUSE")
	if chDSN == "" {
		if os.Getenv("CI") == "true" {
			b.Fatal("CREST_TEST_CLICKHOUSE is not set; scripts/ci-services.sh starts the server")
		}
		b.Skip("CREST_TEST_CLICKHOUSE is not set; run scripts/ci-services.sh and source /tmp/crest-ci-services.env")
	}
	duck := loadedServer(b)
	o, err := clickhouse.ParseDSN(chDSN)
	if err != nil {
		b.Fatal(err)
	}
	n := queryBenchEvents()
	target := fmt.Sprintf("clickhouse://%s/crest_bench_%d_seed%d", o.Addr, n, queryBenchSeed)

	// Migrate from a copy: the cached directory belongs to the running
	// DuckDB server. The migration is resumable, so a later run only
	// checks that everything is there.
	copyDir := b.TempDir()
	for _, f := range []string{"events.duckdb", "events.duckdb.wal"} {
		if _, err := os.Stat(filepath.Join(duck.Data, f)); err != nil {
			continue
		}
		if err := copyFile(filepath.Join(duck.Data, f), filepath.Join(copyDir, f)); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	cmd := exec.Command(binary(b), "migrate", "--data", copyDir, "--to", target+"?node=bench-source")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("crest migrate: %v\n%s", err, out)
	}
	b.Logf("crest migrate (resumed if already done) took %s", time.Since(t0).Round(time.Second))
	house := startAt(b, freePort(b), b.TempDir(), append([]string{"--storage", target + "?node=bench-reader"}, benchServeArgs...)...)

	today := time.Now().UTC()
	start, end := today.AddDate(0, 0, -89).Format("20060102"), today.Format("20060102")
	cases := []struct {
		name   string
		path   string
		params url.Values
	}{
		{"uniques-90d", "/api/2/events/segmentation", url.Values{
			"e": {`{"event_type":"Play Song"}`}, "start": {start}, "end": {end}}},
		{"totals-by-event-prop", "/api/2/events/segmentation", url.Values{
			"e": {`{"event_type":"Play Song","group_by":[{"type":"event","value":"genre"}]}`}, "m": {"totals"}, "start": {start}, "end": {end}}},
		{"uniques-user-filter-by-country", "/api/2/events/segmentation", url.Values{
			"e": {`{"event_type":"Play Song","filters":[{"subprop_type":"user","subprop_key":"gp:plan","subprop_op":"is","subprop_value":["paid"]}]}`},
			"g": {"country"}, "start": {start}, "end": {end}}},
		{"user-activity", "/api/2/useractivity", url.Values{"user": {"1000"}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var answers [2]any
			var codes [2]int
			var medians [2]time.Duration
			for i, srv := range []*server{duck, house} {
				codes[i] = getAPI2(b, srv.URL, c.path, c.params, &answers[i])
				lat := make([]time.Duration, 0, b.N)
				for range b.N {
					t0 := time.Now()
					if code := getAPI2(b, srv.URL, c.path, c.params, nil); code != codes[i] {
						b.Fatalf("%s: status %d, then %d", c.path, codes[i], code)
					}
					lat = append(lat, time.Since(t0))
				}
				slices.Sort(lat)
				medians[i] = lat[len(lat)/2]
			}
			if codes[0] != 200 {
				b.Logf("%s: status %d on DuckDB (too few demo events?)", c.name, codes[0])
			}
			if codes[0] != codes[1] || !reflect.DeepEqual(answers[0], answers[1]) {
				b.Errorf("answers differ:\nduckdb     %d %v\nclickhouse %d %v", codes[0], answers[0], codes[1], answers[1])
			}
			b.ReportMetric(float64(medians[0].Microseconds())/1000, "duckdb-ms")
			b.ReportMetric(float64(medians[1].Microseconds())/1000, "clickhouse-ms")
			b.ReportMetric(float64(medians[1])/float64(medians[0]), "ch/duck")
		})
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
