package clickhouse

import "testing"

func TestWrapTables(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := wrapTables(in, map[string]bool{"events": true}); got != want {
			t.Errorf("wrapTables(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	f("SELECT count() FROM events ev LEFT JOIN m ON m.a = ev.b WHERE ev.x = 1",
		"SELECT count() FROM (SELECT * FROM events) ev LEFT JOIN m ON m.a = ev.b WHERE ev.x = 1")
	f("SELECT count() FROM events WHERE project_id = 1", "SELECT count() FROM (SELECT * FROM events) AS events WHERE project_id = 1")
	f("SELECT events FROM users", "SELECT events FROM users")
}

func TestLegacySQL(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := legacySQL(in); got != want {
			t.Errorf("legacySQL(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	f("SELECT 1", "SELECT 1")
	f("SELECT a FROM t WHERE TRUE AND x = 'TRUE'", "SELECT a FROM t WHERE 1 AND x = 'TRUE'")
	f("SELECT CAST(NULL AS BIGINT), CAST(NULL AS Nullable(Int64))", "SELECT CAST(NULL AS Nullable(BIGINT)), CAST(NULL AS Nullable(Int64))")
	f("/* q */\nWITH m AS (SELECT a FROM t),\ne AS (SELECT x FROM ev LEFT JOIN m ON m.a = ev.x)\nSELECT count(*) FROM e",
		"/* q */\nSELECT count(*) FROM (SELECT x FROM ev LEFT JOIN (SELECT a FROM t) AS m ON m.a = ev.x) AS e")
	f("WITH d AS (SELECT 1 AS k) SELECT * FROM d x JOIN d AS y ON x.k = y.k",
		"SELECT * FROM (SELECT 1 AS k) x JOIN (SELECT 1 AS k) AS y ON x.k = y.k")
	f("SELECT bkt, g0, count(*) AS n FROM s GROUP BY GROUPING SETS ((bkt, g0), (g0))",
		"SELECT bkt, g0, count(*) AS n FROM s GROUP BY bkt, g0\nUNION ALL\nSELECT NULL, g0, count(*) AS n FROM s GROUP BY g0")
	f("SELECT bkt AS b, count(*) FROM s GROUP BY GROUPING SETS ((bkt), ())",
		"SELECT bkt AS b, count(*) FROM s GROUP BY bkt\nUNION ALL\nSELECT NULL AS b, count(*) FROM s ")
	f("SELECT max(a), min(x(b)), sum(c), groupBitOr(d), uniqExact(e) FROM t",
		"SELECT max(toNullable(a)), min(toNullable(x(b))), sum(toNullable(c)), groupBitOr(toUInt64(d)), ifNull(uniqExact(e), 0) FROM t")
	f("SELECT count(DISTINCT a), count(*) FROM t", "SELECT ifNull(count(DISTINCT a), 0), count(*) FROM t")
	f("SELECT max(a) FROM (SELECT k, min(b) AS a FROM t GROUP BY k)", "SELECT max(toNullable(a)) FROM (SELECT k, min(b) AS a FROM t GROUP BY k)")
	f("SELECT hit.id FROM hit JOIN users u ON u.project_id = 1 AND u.amplitude_id = hit.id ORDER BY hit.id",
		"SELECT hit.id FROM hit JOIN (SELECT * FROM users WHERE project_id = 1) AS u ON u.amplitude_id = hit.id ORDER BY hit.id")
	f("SELECT 1 FROM a JOIN b x ON x.k = a.k", "SELECT 1 FROM a JOIN b x ON x.k = a.k")
	f("SELECT (CASE ev.event_type WHEN 'a' THEN CASE WHEN x THEN 1 ELSE 0 END + 2 WHEN 'b' THEN 4 ELSE 0 END), CASE WHEN y THEN 1 END",
		"SELECT (CASE WHEN (ev.event_type) = 'a' THEN CASE WHEN x THEN 1 ELSE 0 END + 2 WHEN (ev.event_type) = 'b' THEN 4 ELSE 0 END), CASE WHEN y THEN 1 END")
	f("SELECT a FROM t UNION ALL SELECT b FROM u", "SELECT a FROM t \nUNION ALL\n SELECT b FROM u")
}
