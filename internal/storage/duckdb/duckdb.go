package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/crest-analytics/crest/internal/storage"
)

// Options tunes the DuckDB instance behind a DB.
type Options struct {
	// MemoryLimit caps DuckDB's buffer manager, e.g. "4GB". Empty leaves
	// DuckDB's default (80% of RAM).
	MemoryLimit string
	// Threads is DuckDB's worker thread count. 0 leaves DuckDB's default
	// (one per core).
	Threads int
	// PromoteAfter is how many rows must carry a property key before it
	// gets a column of its own (promote.go); 0 means the default (1,000),
	// a negative value disables promotion.
	PromoteAfter int64
}

// checkpointThreshold is the DuckDB WAL size that triggers an automatic
// checkpoint. The default (16MB) checkpoints every couple of 10K-event
// units; a larger WAL costs only replay time on open (docs/storage.md).
const checkpointThreshold = "256MB"

// DB is an open DuckDB store. Apply calls are serialised on one dedicated
// connection; Loader and query methods may run concurrently with them and
// see only committed units.
type DB struct {
	db *sql.DB

	mu    sync.Mutex // serialises Apply and Close
	wconn *sql.Conn  // the writer connection
	// whandle is wconn's DuckDB handle, through which Apply runs its
	// statements without busy waiting (writer.go), when wraw is set.
	whandle mapping.Connection
	wraw    bool
	src     *sources // rows staged for the crest_src table function
	tables  *tables  // typed views of src, used by Apply
	closed  atomic.Bool

	// applyHook, when set (by tests), runs before each step of Apply;
	// an error from it aborts the Apply.
	applyHook func(step string) error

	promo *promoter // promoted property columns
	feeds *feeds    // running FeedInts calls
}

var (
	_ storage.Writer = (*DB)(nil)
	_ storage.Loader = (*DB)(nil)
)

// Open opens the DuckDB file at path, creating it and migrating its schema
// to the current version as needed.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	settings := []string{
		// Queries order explicitly; not preserving insertion order lets
		// large scans and INSERT ... SELECT stream with less memory.
		"SET preserve_insertion_order = false",
		"SET checkpoint_threshold = '" + checkpointThreshold + "'",
	}
	if opts.MemoryLimit != "" {
		settings = append(settings, "SET memory_limit = "+quoteString(opts.MemoryLimit))
	}
	if opts.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", opts.Threads))
	}
	connector, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
		for _, s := range settings {
			if _, err := execer.ExecContext(ctx, s, nil); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	after := opts.PromoteAfter
	if after == 0 {
		after = defaultPromoteAfter
	}
	d := &DB{db: sql.OpenDB(connector), src: newSources(), promo: newPromoter(after), feeds: &feeds{}}
	d.tables = newTables(d.src)
	if err := d.init(ctx); err != nil {
		d.db.Close()
		return nil, err
	}
	return d, nil
}

func (d *DB) init(ctx context.Context) error {
	if err := migrate(ctx, d.db); err != nil {
		return err
	}
	if err := d.promo.load(ctx, d.db); err != nil {
		return err
	}
	if err := d.registerFeed(ctx); err != nil {
		return err
	}
	if err := d.ensureWriter(ctx); err != nil {
		return err
	}
	return d.probeFastWrites(ctx, d.wconn)
}

// ensureWriter opens the writer connection and registers the source
// table function on it, unless that is done. Called with d.mu held (or
// before d is shared).
func (d *DB) ensureWriter(ctx context.Context) error {
	if d.wconn != nil {
		return nil
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("writer connection: %w", err)
	}
	if err := duckdb.RegisterTableUDF(conn, sourceFunc, d.src.tableFunction()); err != nil {
		conn.Close()
		return fmt.Errorf("register %s: %w", sourceFunc, err)
	}
	d.wconn = conn
	d.whandle, d.wraw = rawConn(conn)
	return nil
}

// dropWriter forgets a writer connection that database/sql has closed;
// the next Apply opens a new one.
func (d *DB) dropWriter() {
	d.wconn.Close() //nolint:errcheck // already closed; nothing to report
	d.wconn = nil
	d.wraw = false
}

// Close closes the store, waiting for a running Apply. Later calls return
// storage.ErrClosed.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Swap(true) {
		return storage.ErrClosed
	}
	var err error
	if d.wconn != nil {
		err = d.wconn.Close()
	}
	if cerr := d.db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close duckdb: %w", err)
	}
	return nil
}

// QueryContext runs a read query on a pooled connection. It sees only
// committed units.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if d.closed.Load() {
		return nil, storage.ErrClosed
	}
	return d.db.QueryContext(ctx, query, args...)
}

// ExecContext runs a statement on a pooled connection, outside any Apply.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if d.closed.Load() {
		return nil, storage.ErrClosed
	}
	return d.db.ExecContext(ctx, query, args...)
}

// quoteString returns s as a SQL string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
