package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// table is one physical table: its columns, engine and layout. Every
// table also has the columns node and position (which unit of which
// node wrote the row) and, for upserted state, ver (the row version
// ReplacingMergeTree keeps the newest of).
type table struct {
	name    string
	cols    [][2]string // name, type
	engine  string      // MergeTree or ReplacingMergeTree(ver)
	orderBy string
	// partition is the PARTITION BY expression, or "".
	partition string
	// shardKey routes rows in a cluster; rows that must collapse with
	// each other (same ORDER BY key) always land on the same shard.
	shardKey string
}

// columnTypes are the types that depend on the server version.
type columnTypes struct {
	str    string // an optional string
	lowStr string // an optional string with few distinct values
	json   string // a JSON object text, optional
	time   string // a UTC millisecond time
}

// typesFor chooses column types by server version. LowCardinality was
// experimental until 19.x and column codecs arrived in 19.1, so the
// Debian 18.16 server gets plain types; 20.1 and later get both.
func typesFor(v version) columnTypes {
	if v.atLeast(20, 1) {
		return columnTypes{
			str:    "Nullable(String)",
			lowStr: "LowCardinality(Nullable(String))",
			json:   "Nullable(String) CODEC(ZSTD(1))",
			time:   "Int64 CODEC(DoubleDelta, LZ4)",
		}
	}
	return columnTypes{str: "Nullable(String)", lowStr: "Nullable(String)", json: "Nullable(String)", time: "Int64"}
}

// tables returns the schema for a server version. Events are ordered
// for the analyses: every query filters by project and time range and
// most by event type, so (project_id, event_type, event_time) prunes
// granules for segmentation and funnels; seq ends the key so that a
// replayed event collapses with its first copy. Partitions are months of
// event_time, so a retention or deletion touches few parts.
func tables(v version) []table {
	t := typesFor(v)
	lc := func(name string) [2]string { return [2]string{name, t.lowStr} }
	s := func(name string) [2]string { return [2]string{name, t.str} }
	j := func(name string) [2]string { return [2]string{name, t.json} }
	i := func(name string) [2]string { return [2]string{name, "Int64"} }
	ni := func(name string) [2]string { return [2]string{name, "Nullable(Int64)"} }
	nf := func(name string) [2]string { return [2]string{name, "Nullable(Float64)"} }
	tm := func(name string) [2]string { return [2]string{name, t.time} }
	eventType := "String"
	if v.atLeast(20, 1) {
		eventType = "LowCardinality(String)"
	}
	return []table{
		{name: "events", engine: "ReplacingMergeTree",
			partition: "toYYYYMM(toDateTime(intDiv(event_time, 1000), 'UTC'))",
			orderBy:   "project_id, event_type, event_time, seq", shardKey: "cityHash64(amplitude_id)",
			cols: [][2]string{i("project_id"), tm("event_time"), i("seq"), i("amplitude_id"), {"event_type", eventType},
				s("user_id"), s("device_id"), i("session_id"), ni("event_id"), s("insert_id"),
				tm("client_event_time"), ni("client_upload_time"), tm("server_received_time"), tm("server_upload_time"),
				j("event_properties"), j("user_properties"), j("user_property_ops"), j("groups"), j("group_properties"),
				lc("app_version"), lc("start_version"), lc("platform"), lc("os_name"), lc("os_version"),
				lc("device_brand"), lc("device_manufacturer"), lc("device_model"), lc("device_type"), lc("device_family"),
				lc("carrier"), lc("browser"), lc("country"), lc("region"), lc("city"), lc("dma"), lc("language"),
				nf("location_lat"), nf("location_lng"), s("ip"), s("user_agent"),
				nf("price"), ni("quantity"), nf("revenue"), s("product_id"), lc("revenue_type"), lc("currency"),
				s("idfa"), s("idfv"), s("adid"), s("android_id"), s("android_app_set_id"), lc("library"),
				j("plan"), j("ingestion_metadata"), s("partner_id"), lc("paying")}},
		{name: "dedup", engine: "ReplacingMergeTree", orderBy: "hash_hi, hash_lo", shardKey: "hash_lo",
			cols: [][2]string{i("hash_hi"), i("hash_lo"), i("time")}},
		{name: "users_rows", engine: "ReplacingMergeTree(ver)", orderBy: "project_id, amplitude_id", shardKey: "cityHash64(amplitude_id)",
			cols: [][2]string{i("project_id"), i("amplitude_id"), s("user_id"), j("properties"), i("first_seen"), i("last_seen"),
				{"device_ids", "Array(String)"}, {"has_device_ids", "UInt8"}, s("first_platform"), s("first_country"), i("merged_into")}},
		{name: "devices_rows", engine: "ReplacingMergeTree(ver)", orderBy: "project_id, device_id", shardKey: "cityHash64(device_id)",
			cols: [][2]string{i("project_id"), {"device_id", "String"}, i("amplitude_id"), i("anonymous_id")}},
		{name: "user_ids_rows", engine: "ReplacingMergeTree(ver)", orderBy: "project_id, user_id", shardKey: "cityHash64(user_id)",
			cols: [][2]string{i("project_id"), {"user_id", "String"}, i("amplitude_id")}},
		{name: "merges_rows", engine: "ReplacingMergeTree(ver)", orderBy: "project_id, from_id", shardKey: "cityHash64(from_id)",
			cols: [][2]string{i("project_id"), i("from_id"), i("into_id"), i("time"), i("event_seq"), {"device_id", "String"}, {"undone", "UInt8"}}},
		// A session's partials are summed on read; a replayed unit's
		// partial has the same (node, position) and collapses.
		{name: "sessions_rows", engine: "ReplacingMergeTree", orderBy: "project_id, amplitude_id, session_id, node, position",
			shardKey: "cityHash64(amplitude_id)",
			cols:     [][2]string{i("project_id"), i("amplitude_id"), i("session_id"), i("start"), i("last_event"), i("event_count")}},
		{name: "groups_rows", engine: "ReplacingMergeTree(ver)", orderBy: "project_id, group_type, group_value",
			shardKey: "cityHash64(group_type, group_value)",
			cols:     [][2]string{i("project_id"), {"group_type", "String"}, {"group_value", "String"}, j("properties")}},
		{name: "counters_rows", engine: "ReplacingMergeTree(ver)", orderBy: "node, name", shardKey: "cityHash64(node)",
			cols: [][2]string{{"name", "String"}, i("value")}},
		{name: "positions", engine: "MergeTree", orderBy: "node, position", shardKey: "cityHash64(node)"},
	}
}

// views give the state tables the names and columns of the DuckDB
// schema, so the query layer's SQL reads the same tables on both
// backends. FINAL keeps the newest version of each key.
var views = []struct{ name, sql string }{
	{"users", `SELECT project_id, amplitude_id, user_id, properties, first_seen, last_seen,
		device_ids,
		first_platform, first_country, merged_into FROM users_rows FINAL`},
	{"devices", "SELECT project_id, device_id, amplitude_id, anonymous_id FROM devices_rows FINAL"},
	{"user_ids", "SELECT project_id, user_id, amplitude_id FROM user_ids_rows FINAL"},
	{"merges", "SELECT project_id, from_id, into_id, time, event_seq, device_id, undone FROM merges_rows FINAL"},
	{"groups", "SELECT project_id, group_type, group_value, properties FROM groups_rows FINAL"},
	{"sessions", `SELECT project_id, amplitude_id, session_id, min(start) AS start, max(last_event) AS last_event,
		sum(event_count) AS event_count FROM sessions_rows FINAL GROUP BY project_id, amplitude_id, session_id`},
}

// schemaVersion is the version migrate brings a database to. Version 1
// is tables(v) and views; append a step to migrate for each change.
const schemaVersion = 1

// migrate creates the schema or brings it to schemaVersion. The
// schema_migrations table lives on the node's own server (Addr).
func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations
		(version Int64, applied_at Int64) ENGINE = MergeTree ORDER BY version`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int64
	if err := d.db.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > schemaVersion {
		return fmt.Errorf("clickhouse schema version %d is newer than this binary (%d)", have, schemaVersion)
	}
	if have == schemaVersion {
		return nil
	}
	// Version 1. Every statement is IF NOT EXISTS, so a migration cut
	// short by a crash is simply run again.
	for _, t := range tables(d.ver) {
		if err := d.createTable(ctx, t); err != nil {
			return fmt.Errorf("create %s: %w", t.name, err)
		}
	}
	for _, v := range views {
		q := "CREATE VIEW IF NOT EXISTS " + ident(v.name) + " AS " + v.sql
		if _, err := d.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create view %s: %w", v.name, err)
		}
	}
	// clickhouse-go hangs on an INSERT ... VALUES sent to 18.16 as one
	// statement; rows go as a block, as Apply sends them.
	if err := insertBlock(ctx, d.db, "schema_migrations", []string{"version", "applied_at"},
		[][]any{{int64(schemaVersion), time.Now().UnixMilli()}}); err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	return nil
}

func (t table) ddl(name string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + ident(name) + " (")
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ident(c[0]) + " " + c[1])
	}
	if len(t.cols) > 0 {
		b.WriteString(", ")
	}
	b.WriteString("node String, position UInt64, ver UInt64)")
	engine := t.engine
	b.WriteString(" ENGINE = " + engine)
	if t.partition != "" {
		b.WriteString(" PARTITION BY " + t.partition)
	}
	b.WriteString(" ORDER BY (" + t.orderBy + ")")
	return b.String()
}

// createTable creates t, or in a cluster t_local on every shard and a
// Distributed table t over them.
func (d *DB) createTable(ctx context.Context, t table) error {
	if d.opts.Cluster == "" {
		_, err := d.db.ExecContext(ctx, t.ddl(t.name))
		return err
	}
	for i, s := range d.shards {
		if _, err := s.ExecContext(ctx, t.ddl(t.name+"_local")); err != nil {
			return fmt.Errorf("shard %s: %w", d.opts.Shards[i], err)
		}
	}
	q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s AS %s ENGINE = Distributed(%s, %s, %s, %s)",
		ident(t.name), ident(t.name+"_local"), ident(d.opts.Cluster), ident(d.opts.Database), ident(t.name+"_local"), t.shardKey)
	_, err := d.db.ExecContext(ctx, q)
	return err
}

// physical returns the names of the tables a failed unit's rows must be
// deleted from (in a cluster, their _local tables on every shard).
func (d *DB) physical() []string {
	var out []string
	for _, t := range tables(d.ver) {
		out = append(out, t.name)
	}
	return out
}
