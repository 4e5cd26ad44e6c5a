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
//
// With sqlOnly the store hides FeedInts: the engine runs its SQL paths
// where it would hand integers to Go (funnels, unique users), so both
// are held to the same expected rows.
type queryBackend struct {
	promoteAfter int64
	sqlOnly      bool
}

// sqlStore is a store without FeedInts.
type sqlStore struct {
	querytest.Store
	db *DB
}

func (b queryBackend) Open(t *testing.T) querytest.Store {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "crest.duckdb"),
		Options{MemoryLimit: "1GB", Threads: 1, PromoteAfter: b.promoteAfter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if b.sqlOnly {
		return sqlStore{db, db}
	}
	return db
}

func (queryBackend) Dialect(s querytest.Store) query.Dialect {
	if x, ok := s.(sqlStore); ok {
		return query.DuckDB{Columns: x.db}
	}
	return query.DuckDB{Columns: s.(*DB)}
}

func TestQueryCases(t *testing.T) {
	querytest.Run(t, queryBackend{promoteAfter: -1})
}

func TestQueryCasesPromoted(t *testing.T) {
	querytest.Run(t, queryBackend{promoteAfter: 2})
}

func TestQueryCasesSQLOnly(t *testing.T) {
	if _, ok := querytest.Store(sqlStore{}).(query.IntFeeder); ok {
		t.Fatal("sqlStore feeds integers")
	}
	querytest.Run(t, queryBackend{promoteAfter: -1, sqlOnly: true})
}
