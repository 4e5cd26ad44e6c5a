package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/crest-analytics/crest/internal/config"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/meta/postgres"
	"github.com/crest-analytics/crest/internal/meta/sqlite"
	"github.com/crest-analytics/crest/internal/query"
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
		return db, query.DuckDB{}, nil
	}
	opts, err := clickhouse.ParseDSN(cfg.Storage)
	if err != nil {
		return nil, nil, err
	}
	db, err := clickhouse.Open(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("open event store: %w", err)
	}
	logger.Info("event store: clickhouse", "addr", opts.Addr, "database", opts.Database, "node", opts.Node,
		"cluster", opts.Cluster, "server_version", db.ServerVersion())
	return db, query.ClickHouse{}, nil
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
