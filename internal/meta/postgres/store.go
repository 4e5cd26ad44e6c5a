// Package postgres opens Crest's metadata store on PostgreSQL
// (github.com/jackc/pgx/v5 through database/sql), so several Crest nodes
// can share their metadata. The meta.Store implementation is the shared
// one of internal/meta/sqlstore; this package supplies the migrations,
// $n placeholders and a migration lock.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/crest-analytics/crest/internal/meta/sqlstore"
)

// Store is the PostgreSQL metadata store. It is safe for concurrent use,
// also by several processes sharing one database.
type Store = sqlstore.Store

// Option configures Open.
type Option = sqlstore.Option

// WithClock sets the clock used for key expiry checks and timestamps
// (default time.Now); tests inject a fake one.
func WithClock(now func() time.Time) Option { return sqlstore.WithClock(now) }

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string) and applies pending migrations.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open meta postgres: %w", err)
	}
	s, err := sqlstore.New(ctx, db, sqlstore.Dialect{Rebind: rebind, Migrations: migrations, LockMigrations: lockMigrations}, opts...)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate meta postgres: %w", err)
	}
	return s, nil
}

// lockMigrations takes a transaction-scoped advisory lock, so nodes
// starting together migrate once.
func lockMigrations(ctx context.Context, tx *sqlstore.Tx) error {
	h := fnv.New64a()
	h.Write([]byte("crest meta migrations"))
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(h.Sum64()>>1))
	return err
}

// rebind turns the ? placeholders of the portable queries into $1, $2,
// ... outside string literals and quoted identifiers.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
