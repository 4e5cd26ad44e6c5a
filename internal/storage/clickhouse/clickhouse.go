package clickhouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/crest-analytics/crest/internal/storage"
)

// Options says which ClickHouse to use and how.
type Options struct {
	// Addr is the native-protocol address, host:port (default
	// 127.0.0.1:9000).
	Addr string
	// Database holds Crest's tables; it is created if missing (default
	// "crest").
	Database string
	// User and Password authenticate (default user "default", no password).
	User, Password string
	// Node names this Crest node. Rows carry it so several nodes, each
	// with its own WAL positions, can share one database (default "").
	Node string
	// Cluster, when set, is a remote_servers cluster name: tables are
	// created as <name>_local on every shard in Shards and read and
	// written through Distributed tables on Addr.
	Cluster string
	// Shards are the native addresses of the cluster's shards, for the
	// DDL and the clean-up of failed units that a Distributed table
	// cannot do. Required with Cluster.
	Shards []string
	// CounterFloor, when set, is the least value Counters reports for
	// each named counter: several nodes sharing a database start their
	// id counters in disjoint ranges (docs/scale-out.md).
	CounterFloor map[string]int64
}

// ParseDSN reads a URL of the form
//
//	clickhouse://user:password@host:port/database?node=a&cluster=c&shards=h1:p1,h2:p2
func ParseDSN(dsn string) (Options, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return Options{}, fmt.Errorf("clickhouse dsn: %w", err)
	}
	if u.Scheme != "clickhouse" {
		return Options{}, fmt.Errorf("clickhouse dsn: scheme %q, want clickhouse", u.Scheme)
	}
	o := Options{Addr: u.Host, Database: strings.TrimPrefix(u.Path, "/")}
	if u.User != nil {
		o.User = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	q := u.Query()
	o.Node = q.Get("node")
	o.Cluster = q.Get("cluster")
	if s := q.Get("shards"); s != "" {
		o.Shards = strings.Split(s, ",")
	}
	if o.Cluster != "" && len(o.Shards) == 0 {
		return Options{}, errors.New("clickhouse dsn: cluster needs a shards list")
	}
	return o, nil
}

func (o *Options) defaults() {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:9000"
	}
	if o.Database == "" {
		o.Database = "crest"
	}
	if o.User == "" {
		o.User = "default"
	}
}

// DB is an open ClickHouse store. Apply calls are serialised; reads may
// run concurrently with them.
type DB struct {
	opts   Options
	db     *sql.DB                      // Addr, in opts.Database
	native driver.Conn                  // Addr, for column-wise inserts
	types  map[string]map[string]string // table -> column -> type
	shards []*sql.DB                    // each shard's own server, for DDL and clean-up (Cluster only)
	ver    version

	mu      sync.Mutex // serialises Apply and Close
	applied uint64     // the committed position of this node, with mu held
	dirty   bool       // a failed unit may have left rows behind
	lastVer uint64     // the last row version handed out
	closed  atomic.Bool

	// applyHook, when set (by tests), runs before each step of Apply.
	applyHook func(step string) error
}

var (
	_ storage.Writer = (*DB)(nil)
	_ storage.Loader = (*DB)(nil)
)

func connect(addr, user, password, database string) *sql.DB {
	return ch.OpenDB(chOptions(addr, user, password, database))
}

func chOptions(addr, user, password, database string) *ch.Options {
	return &ch.Options{
		Addr: []string{addr},
		Auth: ch.Auth{Database: database, Username: user, Password: password},
		Settings: ch.Settings{
			// Outer joins give NULL, not a type's default, for a missing
			// row, as in standard SQL (and DuckDB).
			"join_use_nulls": 1,
			// An INSERT into a Distributed table returns once every shard
			// has its rows, so a committed unit is visible everywhere.
			"insert_distributed_sync": 1,
			// Push WHERE conditions into subqueries, so a Distributed table
			// read through one (wrapTables) is filtered on the shards.
			"enable_optimize_predicate_expression": 1,
		},
		DialTimeout: 10 * time.Second,
		Compression: &ch.Compression{Method: ch.CompressionLZ4},
	}
}

// Open connects to ClickHouse, creates the database and migrates the
// schema to the current version, and removes what a failed unit of this
// node left behind.
func Open(ctx context.Context, opts Options) (*DB, error) {
	opts.defaults()
	addrs := []string{opts.Addr}
	if opts.Cluster != "" {
		addrs = opts.Shards
	}
	for _, a := range addrs {
		boot := connect(a, opts.User, opts.Password, "default")
		_, err := boot.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+ident(opts.Database))
		boot.Close()
		if err != nil {
			return nil, fmt.Errorf("clickhouse %s: create database: %w", a, err)
		}
	}
	native, err := ch.Open(chOptions(opts.Addr, opts.User, opts.Password, opts.Database))
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", opts.Addr, err)
	}
	d := &DB{opts: opts, db: connect(opts.Addr, opts.User, opts.Password, opts.Database), native: native}
	if opts.Cluster != "" {
		for _, a := range opts.Shards {
			d.shards = append(d.shards, connect(a, opts.User, opts.Password, opts.Database))
		}
	}
	if err := d.init(ctx); err != nil {
		d.closeAll()
		return nil, err
	}
	return d, nil
}

func (d *DB) init(ctx context.Context) error {
	var v string
	if err := d.db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return fmt.Errorf("clickhouse %s: %w", d.opts.Addr, err)
	}
	d.ver = parseVersion(v)
	d.types = map[string]map[string]string{}
	for _, t := range tables(d.ver) {
		m := map[string]string{"node": "String", "position": "UInt64", "ver": "UInt64"}
		for _, c := range t.cols {
			m[c[0]] = c[1]
		}
		d.types[t.name] = m
	}
	if err := d.migrate(ctx); err != nil {
		return err
	}
	pos, err := d.readPosition(ctx)
	if err != nil {
		return err
	}
	d.applied = pos
	d.dirty = true // a crash may have left a partial unit
	return d.cleanup(ctx)
}

// ServerVersion returns the ClickHouse server's version, e.g. "18.16".
func (d *DB) ServerVersion() string { return d.ver.String() }

func (d *DB) closeAll() error {
	err := d.db.Close()
	if cerr := d.native.Close(); err == nil {
		err = cerr
	}
	for _, s := range d.shards {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Close closes the connections, waiting for a running Apply. Later calls
// return storage.ErrClosed.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Swap(true) {
		return storage.ErrClosed
	}
	if err := d.closeAll(); err != nil {
		return fmt.Errorf("close clickhouse: %w", err)
	}
	return nil
}

// QueryContext runs a read query. It implements query.Querier. On
// servers before 22.6 the statement is first rewritten into the SQL they
// run (legacySQL).
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if d.closed.Load() {
		return nil, storage.ErrClosed
	}
	if !d.ver.atLeast(22, 6) {
		query = legacySQL(query)
		if d.opts.Cluster != "" {
			query = wrapTables(query, distributedReads)
		}
	}
	return d.db.QueryContext(ctx, query, args...)
}

// distributedReads are the Distributed tables the query layer reads by
// name; the others it reads through views (schema.go).
var distributedReads = map[string]bool{"events": true}

// LegacyJSON reports whether the server predates ClickHouse's JSON*
// functions (19.x), so the query layer must read properties with the
// visitParam* functions: query.ClickHouse{Legacy: true}.
func (d *DB) LegacyJSON() bool { return !d.ver.atLeast(20, 1) }

// ExecContext runs a statement outside any Apply.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if d.closed.Load() {
		return nil, storage.ErrClosed
	}
	return d.db.ExecContext(ctx, query, args...)
}

// version is a server's major.minor.
type version struct{ major, minor int }

func parseVersion(s string) version {
	parts := strings.SplitN(s, ".", 3)
	var v version
	if len(parts) > 0 {
		v.major, _ = strconv.Atoi(parts[0])
	}
	if len(parts) > 1 {
		v.minor, _ = strconv.Atoi(parts[1])
	}
	return v
}

func (v version) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (v version) atLeast(major, minor int) bool {
	return v.major > major || v.major == major && v.minor >= minor
}

// ident quotes a ClickHouse identifier.
func ident(s string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "`", "\\`") + "`"
}

// quote returns s as a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
