// Package sqlite opens Crest's embedded metadata store: SQLite (pure Go,
// modernc.org/sqlite) in the data directory, with the shared meta.Store
// implementation of internal/meta/sqlstore.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/crest-analytics/crest/internal/meta/sqlstore"
)

// Store is the SQLite metadata store.
type Store = sqlstore.Store

// Option configures Open.
type Option = sqlstore.Option

// WithClock sets the clock used for key expiry checks and timestamps
// (default time.Now); tests inject a fake one.
func WithClock(now func() time.Time) Option { return sqlstore.WithClock(now) }

// Open opens (creating if needed) the SQLite database at path and applies
// pending migrations. WAL journal mode lets readers run beside the one
// writer; immediate transactions and a busy timeout serialise writers
// without SQLITE_BUSY errors; foreign keys are enforced.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open meta %s: %w", path, err)
	}
	s, err := sqlstore.New(ctx, db, sqlstore.Dialect{Migrations: migrations}, opts...)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate meta %s: %w", path, err)
	}
	return s, nil
}
