package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// BenchmarkPropertyRepr compares property representations (JSON text,
// MAP(VARCHAR, VARCHAR), VARIANT) on demo-shaped rows generated in SQL.
// CREST_PROPBENCH_ROWS sets the row count (default 1M; docs/storage.md
// uses 10M). Each sub-benchmark reports the conversion (insert) cost and
// the time of a group-by on an event property and a filter on a user
// property, both in ms.
func BenchmarkPropertyRepr(b *testing.B) {
	rows := 1_000_000
	if s := os.Getenv("CREST_PROPBENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	}
	ctx := context.Background()
	dir := b.TempDir()
	db, err := sql.Open("duckdb", filepath.Join(dir, "prop.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) time.Duration {
		b.Helper()
		start := time.Now()
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		return time.Since(start)
	}
	exec(fmt.Sprintf(`CREATE TABLE staging AS SELECT i AS seq,
		'{"genre":"' || (['rock','pop','jazz','hip-hop','classical','electronic','folk','metal'])[1 + i %% 8]
		|| '","song_id":"song-' || (i * 7919 %% 50000) || '","duration_ms":' || (120000 + i %% 240000)
		|| ',"source":"' || (['search','playlist','radio','album'])[1 + (i // 3) %% 4] || '"}' AS ep,
		'{"plan":"' || (['free','premium','family','student'])[1 + (i // 1000) %% 4]
		|| '","country":"' || (['United States','Germany','Brazil','India','Japan','France'])[1 + (i // 997) %% 6]
		|| '","platform":"' || (['iOS','Android','Web'])[1 + (i // 1009) %% 3]
		|| '","app_version":"2.' || ((i // 5003) %% 20) || '.0"}' AS up
		FROM range(%d) t(i)`, rows))
	reprs := []struct {
		name, typ, conv string
		prop            func(col, key string) string
		// promoted: the JSON text plus the three properties read below
		// as columns of their own (promote.go), filled at insert.
		promoted bool
	}{
		{"json", "VARCHAR", "%s", func(c, k string) string { return fmt.Sprintf("json_extract_string(%s, '$.%s')", c, k) }, false},
		{"map", "MAP(VARCHAR, VARCHAR)", "json_transform(%s, '\"MAP(VARCHAR, VARCHAR)\"')", func(c, k string) string { return fmt.Sprintf("%s['%s']", c, k) }, false},
		{"variant", "VARIANT", "CAST(CAST(%s AS JSON) AS VARIANT)", func(c, k string) string { return fmt.Sprintf("variant_extract_string(%s, '%s')", c, k) }, false},
		{"promoted", "VARCHAR", "%s", func(c, k string) string { return c + "_" + k }, true},
	}
	for _, r := range reprs {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			tbl := "r_" + r.name + ".t"
			file := filepath.Join(dir, r.name+".db")
			exec(fmt.Sprintf("ATTACH IF NOT EXISTS '%s' AS r_%s", file, r.name))
			cols, sel := "", ""
			if r.promoted {
				cols = ", ep_genre VARCHAR, ep_duration_ms VARCHAR, up_plan VARCHAR"
				sel = `, l[1], l[2], json_extract_string(up, '$."plan"') FROM (SELECT *, json_extract_string(ep, ['$."genre"', '$."duration_ms"']) AS l`
			}
			exec(fmt.Sprintf("DROP TABLE IF EXISTS %s; CREATE TABLE %s (seq BIGINT, ep %s, up %s%s)", tbl, tbl, r.typ, r.typ, cols))
			src := "staging"
			if r.promoted {
				src = "staging)"
			}
			insert := exec(fmt.Sprintf("INSERT INTO %s SELECT seq, %s, %s%s FROM %s", tbl,
				fmt.Sprintf(r.conv, "ep"), fmt.Sprintf(r.conv, "up"), sel, src))
			exec("CHECKPOINT r_" + r.name)
			var size int64
			if fi, err := os.Stat(file); err == nil {
				size = fi.Size()
			}
			group := fmt.Sprintf("SELECT %s AS g, count(*) FROM %s GROUP BY g", r.prop("ep", "genre"), tbl)
			filter := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = 'premium'", tbl, r.prop("up", "plan"))
			numeric := fmt.Sprintf("SELECT avg(TRY_CAST(%s AS DOUBLE)) FROM %s", r.prop("ep", "duration_ms"), tbl)
			var tg, tf, tn time.Duration
			for b.Loop() {
				tg += exec(group)
				tf += exec(filter)
				tn += exec(numeric)
			}
			n := float64(b.N)
			b.ReportMetric(float64(insert.Milliseconds()), "insert-ms")
			b.ReportMetric(float64(tg.Milliseconds())/n, "groupby-ms")
			b.ReportMetric(float64(tf.Milliseconds())/n, "filter-ms")
			b.ReportMetric(float64(tn.Milliseconds())/n, "numeric-ms")
			b.ReportMetric(float64(size), "storage-bytes")
		})
	}
}
