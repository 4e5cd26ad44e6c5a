// Package duckdb is Crest's embedded storage backend: one DuckDB file
// holding the events table and the pipeline's user, identity, session,
// group and dedup state. It is the only package that imports the DuckDB
// driver. See docs/storage.md for the schema and the measurements behind it.
package duckdb
