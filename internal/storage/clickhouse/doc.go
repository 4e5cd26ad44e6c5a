// Package clickhouse is Crest's scale-out storage backend: events and
// pipeline state in ClickHouse, over the native protocol
// (github.com/ClickHouse/clickhouse-go/v2). It works with Debian's
// ClickHouse 18.16 and with current releases, choosing column types and
// codecs by the server version (schema.go).
//
// ClickHouse has no multi-table transactions. Apply makes a unit
// exactly-once by tagging every row with the writing node and the unit's
// WAL position, inserting the position row last as the commit marker,
// and deleting a failed unit's rows (position above the committed one)
// before anything else is written; state tables are ReplacingMergeTree
// read through FINAL views named like the DuckDB tables, so the query
// layer's SQL reads the same names on both backends. docs/scale-out.md
// has the design.
package clickhouse
