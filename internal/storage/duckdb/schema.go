package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations are applied in order; migration i+1 is recorded as version
// i+1 in schema_migrations. Append only: never edit a released entry.
var migrations = []string{
	// 1: events and pipeline state.
	`CREATE TABLE events (
		project_id BIGINT NOT NULL,
		event_time BIGINT NOT NULL,
		seq BIGINT NOT NULL,
		amplitude_id BIGINT NOT NULL,
		event_type VARCHAR NOT NULL,
		user_id VARCHAR,
		device_id VARCHAR,
		session_id BIGINT NOT NULL,
		event_id BIGINT,
		insert_id VARCHAR,
		client_event_time BIGINT NOT NULL,
		client_upload_time BIGINT,
		server_received_time BIGINT NOT NULL,
		server_upload_time BIGINT NOT NULL,
		event_properties VARCHAR,
		user_properties VARCHAR,
		user_property_ops VARCHAR,
		groups VARCHAR,
		group_properties VARCHAR,
		app_version VARCHAR,
		start_version VARCHAR,
		platform VARCHAR,
		os_name VARCHAR,
		os_version VARCHAR,
		device_brand VARCHAR,
		device_manufacturer VARCHAR,
		device_model VARCHAR,
		device_type VARCHAR,
		device_family VARCHAR,
		carrier VARCHAR,
		browser VARCHAR,
		country VARCHAR,
		region VARCHAR,
		city VARCHAR,
		dma VARCHAR,
		language VARCHAR,
		location_lat DOUBLE,
		location_lng DOUBLE,
		ip VARCHAR,
		user_agent VARCHAR,
		price DOUBLE,
		quantity BIGINT,
		revenue DOUBLE,
		product_id VARCHAR,
		revenue_type VARCHAR,
		currency VARCHAR,
		idfa VARCHAR,
		idfv VARCHAR,
		adid VARCHAR,
		android_id VARCHAR,
		android_app_set_id VARCHAR,
		library VARCHAR,
		plan VARCHAR,
		ingestion_metadata VARCHAR,
		partner_id VARCHAR,
		paying VARCHAR
	);
	CREATE TABLE users (
		project_id BIGINT NOT NULL,
		amplitude_id BIGINT NOT NULL,
		user_id VARCHAR,
		properties VARCHAR,
		first_seen BIGINT NOT NULL,
		last_seen BIGINT NOT NULL,
		device_ids VARCHAR[],
		first_platform VARCHAR,
		first_country VARCHAR,
		merged_into BIGINT NOT NULL,
		PRIMARY KEY (project_id, amplitude_id)
	);
	CREATE TABLE devices (
		project_id BIGINT NOT NULL,
		device_id VARCHAR NOT NULL,
		amplitude_id BIGINT NOT NULL,
		anonymous_id BIGINT NOT NULL,
		PRIMARY KEY (project_id, device_id)
	);
	CREATE TABLE user_ids (
		project_id BIGINT NOT NULL,
		user_id VARCHAR NOT NULL,
		amplitude_id BIGINT NOT NULL,
		PRIMARY KEY (project_id, user_id)
	);
	CREATE TABLE merges (
		project_id BIGINT NOT NULL,
		from_id BIGINT NOT NULL,
		into_id BIGINT NOT NULL,
		time BIGINT NOT NULL,
		event_seq BIGINT NOT NULL,
		device_id VARCHAR NOT NULL,
		undone BOOLEAN NOT NULL,
		PRIMARY KEY (project_id, from_id)
	);
	CREATE TABLE sessions (
		project_id BIGINT NOT NULL,
		amplitude_id BIGINT NOT NULL,
		session_id BIGINT NOT NULL,
		start BIGINT NOT NULL,
		last_event BIGINT NOT NULL,
		event_count BIGINT NOT NULL,
		PRIMARY KEY (project_id, amplitude_id, session_id)
	);
	CREATE TABLE groups (
		project_id BIGINT NOT NULL,
		group_type VARCHAR NOT NULL,
		group_value VARCHAR NOT NULL,
		properties VARCHAR,
		PRIMARY KEY (project_id, group_type, group_value)
	);
	CREATE TABLE dedup (
		hash_hi BIGINT NOT NULL,
		hash_lo BIGINT NOT NULL,
		time BIGINT NOT NULL
	);
	CREATE TABLE counters (
		name VARCHAR PRIMARY KEY,
		value BIGINT NOT NULL
	);
	CREATE TABLE applied_position (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		position UBIGINT NOT NULL
	);`,
	// 2: promoted property columns (promote.go): the hottest event and
	// user properties as plain columns, and which key has which slot.
	`ALTER TABLE events ADD COLUMN ep_1 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_2 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_3 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_4 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_5 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_6 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_7 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_8 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_9 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_10 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_11 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_12 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_13 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_14 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_15 VARCHAR;
	ALTER TABLE events ADD COLUMN ep_16 VARCHAR;
	ALTER TABLE events ADD COLUMN up_1 VARCHAR;
	ALTER TABLE events ADD COLUMN up_2 VARCHAR;
	ALTER TABLE events ADD COLUMN up_3 VARCHAR;
	ALTER TABLE events ADD COLUMN up_4 VARCHAR;
	ALTER TABLE events ADD COLUMN up_5 VARCHAR;
	ALTER TABLE events ADD COLUMN up_6 VARCHAR;
	ALTER TABLE events ADD COLUMN up_7 VARCHAR;
	ALTER TABLE events ADD COLUMN up_8 VARCHAR;
	CREATE TABLE property_columns (
		kind VARCHAR NOT NULL,
		key VARCHAR NOT NULL,
		slot INTEGER NOT NULL,
		promoted_at BIGINT NOT NULL,
		PRIMARY KEY (kind, slot)
	);`,
}

// migrate brings the schema of db to the latest version, one transaction
// per migration.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this binary (%d)", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		if err := applyMigration(ctx, db, v); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, v int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?)`, v, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}
