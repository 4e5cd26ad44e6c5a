package duckdb

import (
	"path/filepath"
	"testing"

	"github.com/crest-analytics/crest/internal/query"
	"github.com/crest-analytics/crest/internal/query/querytest"
)

// queryBackend runs the query layer's data-driven cases on DuckDB.
type queryBackend struct{}

func (queryBackend) Open(t *testing.T) querytest.Store {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "crest.duckdb"), Options{MemoryLimit: "1GB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (queryBackend) Dialect() query.Dialect { return query.DuckDB{} }

func TestQueryCases(t *testing.T) {
	querytest.Run(t, queryBackend{})
}
