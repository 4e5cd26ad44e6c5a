package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/crest-analytics/crest/internal/config"
	"github.com/crest-analytics/crest/internal/identity"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/meta/postgres"
	"github.com/crest-analytics/crest/internal/meta/sqlite"
	"github.com/crest-analytics/crest/internal/pipeline"
	"github.com/crest-analytics/crest/internal/query"
	"github.com/crest-analytics/crest/internal/route"
	"github.com/crest-analytics/crest/internal/storage"
	"github.com/crest-analytics/crest/internal/storage/clickhouse"
	"github.com/crest-analytics/crest/internal/storage/duckdb"
)

// eventStore is what serve needs from a storage backend: the pipeline's
// write and load paths and the query layer's SQL.
type eventStore interface {
	storage.Writer
	storage.Loader
	query.Querier
	Close() error
}

// closableMeta is a metadata backend that can be closed.
type closableMeta interface {
	meta.Store
	Close() error
}

// openStorage opens the event store cfg.Storage names (duckdb, the
// default, or a clickhouse:// URL) and returns it with its SQL dialect.
func openStorage(ctx context.Context, cfg *config.Config, logger *slog.Logger) (eventStore, query.Dialect, error) {
	if cfg.Storage == "" || cfg.Storage == "duckdb" {
		db, err := duckdb.Open(ctx, cfg.EventsPath(), duckdb.Options{MemoryLimit: cfg.DuckDBMemoryLimit})
		if err != nil {
			return nil, nil, fmt.Errorf("open event store: %w", err)
		}
		return db, query.DuckDB{Columns: db}, nil
	}
	opts, err := clickhouse.ParseDSN(cfg.Storage)
	if err != nil {
		return nil, nil, err
	}
	if opts.Node == "" {
		opts.Node = cfg.Node
	}
	if base, err := idBase(cfg); err != nil {
		return nil, nil, err
	} else if base > 0 {
		// The pipeline's counters (identity.CounterNextAmplitudeID and
		// the pipeline's "next_seq") start in this node's range.
		opts.CounterFloor = map[string]int64{identity.CounterNextAmplitudeID: base, "next_seq": base}
	}
	db, err := clickhouse.Open(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("open event store: %w", err)
	}
	logger.Info("event store: clickhouse", "addr", opts.Addr, "database", opts.Database, "node", opts.Node,
		"cluster", opts.Cluster, "server_version", db.ServerVersion())
	return db, query.ClickHouse{Legacy: db.LegacyJSON()}, nil
}

// idBase is the first amplitude_id and seq of this node: node i of the
// sorted peer names mints ids from i<<40, so nodes sharing ClickHouse
// never mint the same id (2^40 ids per node).
func idBase(cfg *config.Config) (int64, error) {
	if cfg.Peers == "" {
		return 0, nil
	}
	r, err := newRouter(cfg)
	if err != nil {
		return 0, err
	}
	return int64(r.Index(cfg.Node)) << 40, nil
}

// newRouter returns the ingestion router of a multi-node installation
// (cfg.Peers set), or nil.
func newRouter(cfg *config.Config) (*route.Router, error) {
	if cfg.Peers == "" {
		return nil, nil
	}
	peers, err := route.ParsePeers(cfg.Peers)
	if err != nil {
		return nil, err
	}
	return route.New(cfg.Node, peers, nil)
}

// routeIngest puts an ingestion handler behind r, if any.
func routeIngest(r *route.Router, h http.Handler) http.Handler {
	if r == nil {
		return h
	}
	return r.Wrap(h)
}

// openMeta opens the metadata store cfg.Meta names (sqlite, the
// default, or a postgres:// URL).
func openMeta(ctx context.Context, cfg *config.Config) (closableMeta, error) {
	if cfg.Meta == "" || cfg.Meta == "sqlite" {
		s, err := sqlite.Open(ctx, cfg.MetaPath())
		if err != nil {
			return nil, fmt.Errorf("open metadata store: %w", err)
		}
		return s, nil
	}
	s, err := postgres.Open(ctx, cfg.Meta)
	if err != nil {
		return nil, fmt.Errorf("open metadata store: %w", err)
	}
	return s, nil
}

// pipelineOptions returns the pipeline's options: with --peers, this
// node's amplitude_id range and, with --meta postgres://, the identity
// map shared by the nodes (docs/scale-out.md). The returned func closes
// what it opened.
func pipelineOptions(ctx context.Context, cfg *config.Config, logger *slog.Logger) (pipeline.Options, func(), error) {
	var opts pipeline.Options
	base, err := idBase(cfg)
	if err != nil || cfg.Peers == "" {
		return opts, func() {}, err
	}
	opts.IDLow, opts.IDHigh = base, base+1<<40
	if cfg.Meta == "" || cfg.Meta == "sqlite" {
		logger.Warn("several nodes without --meta postgres://: a user_id met on devices of different nodes gets one amplitude_id per node")
		return opts, func() {}, nil
	}
	m, err := postgres.OpenIdentityMap(ctx, cfg.Meta, cfg.Node)
	if err != nil {
		return opts, nil, err
	}
	opts.Shared = m
	logger.Info("identity: user ids shared through postgres", "node", cfg.Node)
	return opts, func() { m.Close() }, nil
}
