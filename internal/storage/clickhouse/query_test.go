package clickhouse

import (
	"testing"

	"github.com/crest-analytics/crest/internal/query"
	"github.com/crest-analytics/crest/internal/query/querytest"
)

// queryBackend runs the query layer's data-driven cases on ClickHouse.
type queryBackend struct {
	env    string
	legacy bool // set by Open from the server's version
}

func (b *queryBackend) Open(t *testing.T) querytest.Store {
	t.Helper()
	db := openWith(t, testOptions(t, b.env))
	t.Cleanup(func() { db.Close() })
	b.legacy = db.LegacyJSON()
	return db
}

func (b *queryBackend) Dialect(querytest.Store) query.Dialect {
	return query.ClickHouse{Legacy: b.legacy}
}

func TestQueryCases(t *testing.T) {
	querytest.Run(t, &queryBackend{env: "CREST_TEST_CLICKHOUSE"})
}

func TestQueryCasesSharded(t *testing.T) {
	querytest.Run(t, &queryBackend{env: "CREST_TEST_CLICKHOUSE_SHARDED"})
}
