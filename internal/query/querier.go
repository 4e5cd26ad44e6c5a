package query

import (
	"context"
	"database/sql"
)

// Querier runs one read-only SQL statement. *sql.DB and the storage
// backends' DB types satisfy it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Engine runs analyses for one storage backend. It is safe for
// concurrent use.
type Engine struct {
	q Querier
	d Dialect
}

// NewEngine returns an Engine that runs SQL in dialect d through q.
func NewEngine(q Querier, d Dialect) *Engine { return &Engine{q: q, d: d} }

// Dialect returns the engine's SQL dialect.
func (e *Engine) Dialect() Dialect { return e.d }

// IntFeeder is implemented by stores that hand a query's integers to Go
// in bulk, without text or per-row overhead (the DuckDB store): build
// returns the statement given feed, which wraps a BIGINT expression
// into the call handing its value over on every row it is evaluated on;
// FeedInts returns the values, in no particular order, in chunks.
type IntFeeder interface {
	FeedInts(ctx context.Context, build func(feed func(x string) string) string) ([][]int64, error)
}
