package duckdb

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/query"
)

// funnelBenchDB opens the DuckDB file named by CREST_FUNNEL_BENCH_DB (a
// copy of a demo data directory's events.duckdb), or else the synthetic
// data set of the SQL benchmarks. It returns the last day with data.
func funnelBenchDB(b *testing.B) (*DB, time.Time) {
	b.Helper()
	path := os.Getenv("CREST_FUNNEL_BENCH_DB")
	if path == "" {
		db, end := benchDB(b, queryBenchEvents())
		return db, end.AddDate(0, 0, -1)
	}
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var last int64
	if err := db.db.QueryRowContext(b.Context(), "SELECT max(event_time) FROM events").Scan(&last); err != nil {
		b.Fatal(err)
	}
	return db, time.UnixMilli(last).UTC()
}

// medianRuns runs fn once untimed, then b.N times, and reports the median.
func medianRuns(b *testing.B, fn func(context.Context) error) {
	b.ReportAllocs()
	if err := fn(b.Context()); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0, c0 := time.Now(), cpuTime(b)
		if err := fn(b.Context()); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		cpu = append(cpu, cpuTime(b)-c0)
	}
	slices.Sort(lat)
	slices.Sort(cpu)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[0].Microseconds())/1000, "min-ms")
	// CPU time of the process (DuckDB's threads and Go's) does not depend
	// on other load on the machine; on an idle 2-core machine the wall
	// time is about half of it, or more where work does not overlap.
	b.ReportMetric(float64(cpu[len(cpu)/2].Microseconds())/1000, "cpu-ms")
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-rss-MB")
	}
}

// peakRSS is the process's peak resident set size in bytes (Linux
// VmHWM; 0 elsewhere). It includes the DuckDB buffer pool: run one case
// per process (-bench with a single case) to read one case's peak.
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkFunnelEngine times funnels, retention and sessions on the
// engine alone (no HTTP), and the plain-SQL funnel the kernel replaces.
// Set CREST_FUNNEL_BENCH_DB to a copy of the demo data's events.duckdb
// (docs/funnels.md); without it the synthetic data set is used.
func BenchmarkFunnelEngine(b *testing.B) {
	db, last := funnelBenchDB(b)
	defer db.Close()
	eng := query.NewEngine(db, query.DuckDB{})
	p := query.Project{ID: 1, TimeZone: "UTC"}
	now := last.AddDate(0, 0, 1)
	d := func(days int) string { return last.AddDate(0, 0, -days).Format("2006-01-02") }
	end := d(0)
	funnel := func(def string) func(context.Context) error {
		f, err := query.ParseFunnel([]byte(def))
		if err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context) error { _, err := eng.Funnel(ctx, p, f, now); return err }
	}
	retention := func(def string) func(context.Context) error {
		r, err := query.ParseRetention([]byte(def))
		if err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context) error { _, err := eng.Retention(ctx, p, r, now); return err }
	}
	sessions := func(def string) func(context.Context) error {
		s, err := query.ParseSessions([]byte(def))
		if err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context) error { _, err := eng.Sessions(ctx, p, s, now); return err }
	}
	steps := `[{"event_type":"Open App"},{"event_type":"Search"},{"event_type":"Play Song"}]`
	cases := []struct {
		name string
		run  func(context.Context) error
	}{
		{"funnel-3-step-1d-90d", funnel(fmt.Sprintf(`{"type":"funnel","version":1,"steps":%s,"window_seconds":86400,"range":{"start":%q,"end":%q}}`, steps, d(89), end))},
		{"funnel-3-step-1d-90d-grouped", funnel(fmt.Sprintf(`{"type":"funnel","version":1,"steps":%s,"window_seconds":86400,"group_by":{"type":"device","key":"country"},"range":{"start":%q,"end":%q}}`, steps, d(89), end))},
		{"funnel-3-step-1d-90d-sql", plainSQLFunnel(db, last.AddDate(0, 0, -89).Truncate(24*time.Hour), last.AddDate(0, 0, 1).Truncate(24*time.Hour))},
		{"retention-30d-nday", retention(fmt.Sprintf(`{"type":"retention","version":1,"start":{"event_type":"_active"},"return":[{"event_type":"_active"}],"range":{"start":%q,"end":%q}}`, d(29), end))},
		{"sessions-average-90d", sessions(fmt.Sprintf(`{"type":"sessions","version":1,"metric":"average","range":{"start":%q,"end":%q}}`, d(89), end))},
		{"sessions-length-90d", sessions(fmt.Sprintf(`{"type":"sessions","version":1,"metric":"length","range":{"start":%q,"end":%q}}`, d(89), end))},
		// The events pass: sessions that contain a song played, and songs per session.
		{"sessions-contains-90d", sessions(fmt.Sprintf(`{"type":"sessions","version":1,"metric":"average","filters":[{"type":"contains","event":{"event_type":"Play Song"}}],"range":{"start":%q,"end":%q}}`, d(89), end))},
		{"sessions-events-90d", sessions(fmt.Sprintf(`{"type":"sessions","version":1,"metric":"event_average","event":{"event_type":"Play Song"},"range":{"start":%q,"end":%q}}`, d(89), end))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) { medianRuns(b, c.run) })
	}
}

// plainSQLFunnel is the 3-step this-order funnel (1-day window,
// uniques) written in SQL alone, for comparison: for each entry, the
// first step-2 event after it, then a step-3 event after that.
func plainSQLFunnel(db *DB, from, to time.Time) func(context.Context) error {
	const w = 86_400_000
	q := fmt.Sprintf(`WITH m AS (SELECT from_id, into_id FROM merges WHERE project_id = 1 AND NOT undone),
e AS (SELECT coalesce(m.into_id, ev.amplitude_id) AS uid, ev.event_time AS t, ev.event_type AS k FROM events ev LEFT JOIN m ON m.from_id = ev.amplitude_id
  WHERE ev.project_id = 1 AND ev.event_time >= %[1]d AND ev.event_time < %[2]d + %[3]d AND ev.event_type IN ('Open App', 'Search', 'Play Song')),
s1 AS (SELECT uid, t FROM e WHERE k = 'Open App' AND t < %[2]d),
s2 AS (SELECT s1.uid, s1.t AS t1, min(e.t) AS t2 FROM s1 JOIN e ON e.uid = s1.uid AND e.k = 'Search' AND e.t > s1.t AND e.t <= s1.t + %[3]d GROUP BY s1.uid, s1.t),
s3 AS (SELECT DISTINCT s2.uid FROM s2 JOIN e ON e.uid = s2.uid AND e.k = 'Play Song' AND e.t > s2.t2 AND e.t <= s2.t1 + %[3]d)
SELECT (SELECT count(DISTINCT uid) FROM s1), (SELECT count(DISTINCT uid) FROM s2), (SELECT count(*) FROM s3)`, from.UnixMilli(), to.UnixMilli(), w)
	return func(ctx context.Context) error {
		var a, b, c int64
		return db.db.QueryRowContext(ctx, q).Scan(&a, &b, &c)
	}
}
