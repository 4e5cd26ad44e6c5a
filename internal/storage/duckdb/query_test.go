package duckdb

import (
	"path/filepath"
	"testing"

	"github.com/crest-analytics/crest/internal/query"
	"github.com/crest-analytics/crest/internal/query/querytest"
)

// queryBackend runs the query layer's data-driven cases on DuckDB, with
// property promotion off (every property read parses JSON) or promoting
// keys from their second row on (reads use the promoted columns, and
// backfills run whenever a key seen in an earlier unit is promoted).
type queryBackend struct{ promoteAfter int64 }

func (b queryBackend) Open(t *testing.T) querytest.Store {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "crest.duckdb"),
		Options{MemoryLimit: "1GB", Threads: 1, PromoteAfter: b.promoteAfter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (queryBackend) Dialect(s querytest.Store) query.Dialect {
	return query.DuckDB{Columns: s.(*DB)}
}

func TestQueryCases(t *testing.T) {
	querytest.Run(t, queryBackend{promoteAfter: -1})
}

func TestQueryCasesPromoted(t *testing.T) {
	querytest.Run(t, queryBackend{promoteAfter: 2})
}
