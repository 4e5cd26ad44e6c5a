// Package sqlstore implements meta.Store over database/sql with portable
// SQL, once for every SQL engine: the sqlite and postgres packages open
// their database, supply their migrations and placeholder style, and
// return this Store. Times are Unix milliseconds, booleans 0/1.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

var _ meta.Store = (*Store)(nil)

// Dialect is what differs between the SQL engines.
type Dialect struct {
	// Rebind rewrites a query's ? placeholders for the engine; nil keeps them.
	Rebind func(string) string
	// Migrations are the schema's statements, in order; migration i+1 is
	// recorded as version i+1 in schema_migrations. Append only.
	Migrations []string
	// LockMigrations, if set, runs first in the migration transaction, so
	// nodes starting together migrate once (e.g. an advisory lock).
	LockMigrations func(ctx context.Context, tx *Tx) error
}

// Store is a metadata store. It is safe for concurrent use.
type Store struct {
	db  *conn
	d   Dialect
	now func() time.Time
}

// Option configures New.
type Option func(*Store)

// WithClock sets the clock used for key expiry checks and timestamps
// (default time.Now); tests inject a fake one.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a Store over db, after applying pending migrations. The
// Store owns db and closes it in Close.
func New(ctx context.Context, db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if d.Rebind == nil {
		d.Rebind = func(q string) string { return q }
	}
	s := &Store{db: &conn{db: db, rebind: d.Rebind}, d: d, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.db.Close() }

// migrate applies pending migrations in one transaction.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *Tx) error {
		if s.d.LockMigrations != nil {
			if err := s.d.LockMigrations(ctx, tx); err != nil {
				return err
			}
		}
		for i, m := range s.d.Migrations {
			v := i + 1
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, m); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, v, ms(s.now())); err != nil {
				return err
			}
		}
		return nil
	})
}

// SchemaVersion returns the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

func (s *Store) tx(ctx context.Context, f func(*Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// mapErr maps a driver error to the meta sentinels: no rows is
// ErrNotFound; a unique violation (SQLite's message, or SQLSTATE 23505 as
// PostgreSQL drivers report it) is ErrConflict.
func mapErr(err error) error {
	var state interface{ SQLState() string }
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return meta.ErrNotFound
	case errors.As(err, &state) && state.SQLState() == "23505",
		strings.Contains(err.Error(), "UNIQUE constraint failed"),
		strings.Contains(err.Error(), "PRIMARY KEY constraint failed"):
		return fmt.Errorf("%w: %v", meta.ErrConflict, err)
	}
	return err
}

func requireOne(res sql.Result, err error) error {
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return meta.ErrNotFound
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// conn is the database with the dialect's placeholders.
type conn struct {
	db     *sql.DB
	rebind func(string) string
}

func (c *conn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(ctx, c.rebind(q), args...)
}

func (c *conn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.db.QueryContext(ctx, c.rebind(q), args...)
}

func (c *conn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return c.db.QueryRowContext(ctx, c.rebind(q), args...)
}

func (c *conn) BeginTx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	tx, err := c.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Tx{tx: tx, rebind: c.rebind}, nil
}

// Tx is a transaction with the dialect's placeholders.
type Tx struct {
	tx     *sql.Tx
	rebind func(string) string
}

// ExecContext runs a statement in the transaction.
func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.rebind(q), args...)
}

// QueryContext runs a query in the transaction.
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.rebind(q), args...)
}

// QueryRowContext runs a one-row query in the transaction.
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.rebind(q), args...)
}

// Commit commits the transaction.
func (t *Tx) Commit() error { return t.tx.Commit() }

// Rollback aborts the transaction.
func (t *Tx) Rollback() error { return t.tx.Rollback() }
