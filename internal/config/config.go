// Package config holds the settings of `crest serve`, their defaults and
// their validation. Each setting comes from a flag, or else from its
// environment variable, or else from its default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Config is the configuration of a Crest server.
type Config struct {
	// Addr is the HTTP listen address. Default ":8080" (CREST_ADDR).
	Addr string
	// DataDir holds the WAL, the embedded event store and the metadata
	// store. Default "./crest-data" (CREST_DATA_DIR).
	DataDir string
	// APIKey and SecretKey, when set, become the default project's keys
	// on first start (CREST_API_KEY, CREST_SECRET_KEY). Never logged.
	APIKey    string
	SecretKey string
	// TrustedProxyHeader names the header (e.g. X-Forwarded-For) whose
	// first address is the client address for ip "$remote". Empty: the
	// connection's remote address (CREST_TRUSTED_PROXY_HEADER).
	TrustedProxyHeader string
	// GeoIPDB is the path of a MaxMind-format (.mmdb) city database used
	// to derive country, region and city from the client IP. Empty: no
	// GeoIP (CREST_GEOIP_DB).
	GeoIPDB string
	// LogLevel is debug, info, warn or error. Default info (CREST_LOG_LEVEL).
	LogLevel string
	// DuckDBMemoryLimit caps the embedded store's memory, e.g. "8GB".
	// Empty: DuckDB's default of 80% of RAM (CREST_DUCKDB_MEMORY_LIMIT).
	DuckDBMemoryLimit string
	// ShutdownTimeout bounds a graceful shutdown. Default 30s
	// (CREST_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// SecureCookies forces the Secure attribute on session cookies even
	// when the request did not arrive over TLS (behind a TLS-terminating
	// proxy). Default false (CREST_SECURE_COOKIES).
	SecureCookies bool
	// PprofAddr, when set, serves net/http/pprof on this separate address
	// (e.g. 127.0.0.1:6060) for profiling. Default off (CREST_PPROF_ADDR).
	PprofAddr string
	// Storage selects the event store: "duckdb" (the embedded default,
	// a file in DataDir; also when empty) or a clickhouse:// URL
	// (CREST_STORAGE).
	Storage string
	// Meta selects the metadata store: "sqlite" (the embedded default,
	// a file in DataDir; also when empty) or a postgres:// URL
	// (CREST_META).
	Meta string
	// Node names this node among several sharing ClickHouse
	// (CREST_NODE); Peers lists every node as name=URL, comma-separated,
	// this one included (CREST_PEERS). With Peers set, ingested events
	// are routed to the node owning their device (docs/scale-out.md).
	Node  string
	Peers string
	// The Dashboard API's (/api/2) rate limits per project (spec §6,
	// docs/api-compat.md); 0 disables a limit. API2Concurrent: requests
	// at once, User Activity and User Search aside. Default 5
	// (CREST_API2_CONCURRENT). API2UserConcurrent and API2UserPerHour:
	// User Activity and User Search at once and per hour. Default 10 and
	// 360 (CREST_API2_USER_CONCURRENT, CREST_API2_USER_PER_HOUR).
	// API2CostPer5Min and API2CostPerHour: the cost budget (days ×
	// conditions × endpoint cost) per 5 minutes and per hour. Default
	// 1,000 and 108,000 (CREST_API2_COST_PER_5MIN, CREST_API2_COST_PER_HOUR).
	API2Concurrent     int
	API2UserConcurrent int
	API2UserPerHour    int
	API2CostPer5Min    int
	API2CostPerHour    int
	// QueryConcurrency is how many analyses run at once (analytics.Deps.MaxAnalyses).
	QueryConcurrency int
}

// Register defines the flags of c on fs, with defaults taken from the
// environment.
func (c *Config) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("CREST_ADDR", ":8080"), "HTTP listen `address` (CREST_ADDR)")
	fs.StringVar(&c.DataDir, "data", env("CREST_DATA_DIR", "./crest-data"), "data `directory` (CREST_DATA_DIR)")
	c.APIKey = os.Getenv("CREST_API_KEY")
	c.SecretKey = os.Getenv("CREST_SECRET_KEY")
	fs.StringVar(&c.TrustedProxyHeader, "trusted-proxy-header", env("CREST_TRUSTED_PROXY_HEADER", ""),
		"`header` whose first address is the client's, e.g. X-Forwarded-For (CREST_TRUSTED_PROXY_HEADER)")
	fs.StringVar(&c.GeoIPDB, "geoip-db", env("CREST_GEOIP_DB", ""), "MaxMind-format city database `file` for GeoIP (CREST_GEOIP_DB)")
	fs.StringVar(&c.LogLevel, "log-level", env("CREST_LOG_LEVEL", "info"), "log `level`: debug, info, warn, error (CREST_LOG_LEVEL)")
	fs.StringVar(&c.DuckDBMemoryLimit, "duckdb-memory-limit", env("CREST_DUCKDB_MEMORY_LIMIT", ""),
		"memory `limit` of the embedded store, e.g. 8GB (CREST_DUCKDB_MEMORY_LIMIT)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDuration("CREST_SHUTDOWN_TIMEOUT", 30*time.Second),
		"graceful shutdown `timeout` (CREST_SHUTDOWN_TIMEOUT)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envBool("CREST_SECURE_COOKIES", false),
		"always mark session cookies Secure, e.g. behind a TLS proxy (CREST_SECURE_COOKIES)")
	fs.StringVar(&c.Storage, "storage", env("CREST_STORAGE", "duckdb"), "event `store`: duckdb or clickhouse://host:9000/db (CREST_STORAGE)")
	fs.StringVar(&c.Meta, "meta", env("CREST_META", "sqlite"), "metadata `store`: sqlite or postgres://user:pass@host/db (CREST_META)")
	fs.StringVar(&c.Node, "node", env("CREST_NODE", ""), "this node's `name` among several (CREST_NODE)")
	fs.StringVar(&c.Peers, "peers", env("CREST_PEERS", ""), "every node as `name=URL,...`, to route ingestion by device (CREST_PEERS)")
	fs.IntVar(&c.API2Concurrent, "api2-concurrent", envInt("CREST_API2_CONCURRENT", 5),
		"concurrent /api/2 `requests` per project, user look-ups aside; 0: no limit (CREST_API2_CONCURRENT)")
	fs.IntVar(&c.API2UserConcurrent, "api2-user-concurrent", envInt("CREST_API2_USER_CONCURRENT", 10),
		"concurrent /api/2 user activity and user search `requests` per project; 0: no limit (CREST_API2_USER_CONCURRENT)")
	fs.IntVar(&c.API2UserPerHour, "api2-user-per-hour", envInt("CREST_API2_USER_PER_HOUR", 360),
		"/api/2 user activity and user search `requests` per project and hour; 0: no limit (CREST_API2_USER_PER_HOUR)")
	fs.IntVar(&c.API2CostPer5Min, "api2-cost-per-5min", envInt("CREST_API2_COST_PER_5MIN", 1000),
		"/api/2 query `cost` per project and 5 minutes; 0: no limit (CREST_API2_COST_PER_5MIN)")
	fs.IntVar(&c.API2CostPerHour, "api2-cost-per-hour", envInt("CREST_API2_COST_PER_HOUR", 108_000),
		"/api/2 query `cost` per project and hour; 0: no limit (CREST_API2_COST_PER_HOUR)")
	fs.IntVar(&c.QueryConcurrency, "query-concurrency", envInt("CREST_QUERY_CONCURRENCY", runtime.GOMAXPROCS(0)),
		"`number` of analyses run at once, more wait their turn; 0: no limit (CREST_QUERY_CONCURRENCY; default: the CPUs)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", env("CREST_PPROF_ADDR", ""),
		"serve net/http/pprof on this `address`, e.g. 127.0.0.1:6060 (CREST_PPROF_ADDR)")
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr %q: %w", c.Addr, err)
	}
	if c.DataDir == "" {
		return errors.New("data: must not be empty")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("shutdown-timeout %v: must be positive", c.ShutdownTimeout)
	}
	if c.Storage != "" && c.Storage != "duckdb" && !strings.HasPrefix(c.Storage, "clickhouse://") {
		return fmt.Errorf("storage %q: want duckdb or a clickhouse:// URL", c.Storage)
	}
	if c.Meta != "" && c.Meta != "sqlite" && !strings.HasPrefix(c.Meta, "postgres://") && !strings.HasPrefix(c.Meta, "postgresql://") {
		return fmt.Errorf("meta %q: want sqlite or a postgres:// URL", c.Meta)
	}
	if c.Peers != "" && c.Node == "" {
		return errors.New("peers: needs --node")
	}
	for _, l := range []struct {
		name string
		v    int
	}{{"api2-concurrent", c.API2Concurrent}, {"api2-user-concurrent", c.API2UserConcurrent}, {"api2-user-per-hour", c.API2UserPerHour},
		{"api2-cost-per-5min", c.API2CostPer5Min}, {"api2-cost-per-hour", c.API2CostPerHour}, {"query-concurrency", c.QueryConcurrency}} {
		if l.v < 0 {
			return fmt.Errorf("%s %d: must not be negative (0 disables the limit)", l.name, l.v)
		}
	}
	if c.GeoIPDB != "" {
		if _, err := os.Stat(c.GeoIPDB); err != nil {
			return fmt.Errorf("geoip-db: %w", err)
		}
	}
	return nil
}

// WALDir is the directory of the write-ahead log.
func (c *Config) WALDir() string { return filepath.Join(c.DataDir, "wal") }

// EventsPath is the embedded event store's file.
func (c *Config) EventsPath() string { return filepath.Join(c.DataDir, "events.duckdb") }

// MetaPath is the embedded metadata store's file.
func (c *Config) MetaPath() string { return filepath.Join(c.DataDir, "meta.db") }

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func envBool(name string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(name)); err == nil {
		return b
	}
	return def
}
