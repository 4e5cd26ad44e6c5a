package clickhouse

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"

	"github.com/crest-analytics/crest/internal/storage"
)

// AppliedPosition returns this node's last committed WAL position, or 0.
func (d *DB) AppliedPosition(ctx context.Context) (uint64, error) {
	if d.closed.Load() {
		return 0, storage.ErrClosed
	}
	return d.readPosition(ctx)
}

// Counters returns this node's sequence counters as last applied, each
// at least its Options.CounterFloor.
func (d *DB) Counters(ctx context.Context) (map[string]int64, error) {
	out := make(map[string]int64)
	err := d.each(ctx, "counters", "SELECT name, value FROM counters_rows FINAL WHERE node = ?", func(rows *sql.Rows) error {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return err
		}
		out[name] = v
		return nil
	}, d.opts.Node)
	if err != nil {
		return nil, err
	}
	for name, floor := range d.opts.CounterFloor {
		out[name] = max(out[name], floor)
	}
	return out, nil
}

// LoadDedup calls fn for each dedup key with Time >= since, of every node.
func (d *DB) LoadDedup(ctx context.Context, since int64, fn func(storage.DedupKey) error) error {
	return d.each(ctx, "load dedup", "SELECT hash_hi, hash_lo, time FROM dedup FINAL WHERE time >= ?", func(rows *sql.Rows) error {
		var hi, lo int64
		var k storage.DedupKey
		if err := rows.Scan(&hi, &lo, &k.Time); err != nil {
			return err
		}
		binary.BigEndian.PutUint64(k.Hash[:8], uint64(hi))
		binary.BigEndian.PutUint64(k.Hash[8:], uint64(lo))
		return fn(k)
	}, since)
}

// PruneDedup deletes the dedup keys with Time < before. The deletion is a
// ClickHouse mutation and finishes in the background.
func (d *DB) PruneDedup(ctx context.Context, before int64) error {
	table, conns := "dedup", []*sql.DB{d.db}
	if d.opts.Cluster != "" {
		table, conns = "dedup_local", d.shards
	}
	for _, c := range conns {
		if _, err := c.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s DELETE WHERE time < %d", table, before)); err != nil {
			return fmt.Errorf("prune dedup: %w", err)
		}
	}
	return nil
}

// LoadUsers calls fn for each user. fn must not keep the pointer.
func (d *DB) LoadUsers(ctx context.Context, fn func(*storage.User) error) error {
	return d.each(ctx, "load users", `SELECT project_id, amplitude_id, user_id, properties, first_seen,
		last_seen, device_ids, has_device_ids, first_platform, first_country, merged_into FROM users_rows FINAL`, func(rows *sql.Rows) error {
		var u storage.User
		var ids []string
		var has uint8
		if err := rows.Scan(&u.ProjectID, &u.AmplitudeID, nullString{&u.UserID}, nullBytes{&u.Properties},
			&u.FirstSeen, &u.LastSeen, &ids, &has, nullString{&u.FirstPlatform}, nullString{&u.FirstCountry},
			&u.MergedInto); err != nil {
			return err
		}
		if has == 1 {
			u.DeviceIDs = append([]string{}, ids...)
		}
		return fn(&u)
	})
}

// LoadDevices calls fn for each device. fn must not keep the pointer.
func (d *DB) LoadDevices(ctx context.Context, fn func(*storage.Device) error) error {
	return d.each(ctx, "load devices", "SELECT project_id, device_id, amplitude_id, anonymous_id FROM devices", func(rows *sql.Rows) error {
		var v storage.Device
		if err := rows.Scan(&v.ProjectID, &v.DeviceID, &v.AmplitudeID, &v.AnonymousID); err != nil {
			return err
		}
		return fn(&v)
	})
}

// LoadUserIDs calls fn for each user_id mapping. fn must not keep the pointer.
func (d *DB) LoadUserIDs(ctx context.Context, fn func(*storage.UserID) error) error {
	return d.each(ctx, "load user ids", "SELECT project_id, user_id, amplitude_id FROM user_ids", func(rows *sql.Rows) error {
		var v storage.UserID
		if err := rows.Scan(&v.ProjectID, &v.UserID, &v.AmplitudeID); err != nil {
			return err
		}
		return fn(&v)
	})
}

// LoadMerges calls fn for each merge, undone ones included. fn must not
// keep the pointer.
func (d *DB) LoadMerges(ctx context.Context, fn func(*storage.Merge) error) error {
	return d.each(ctx, "load merges", "SELECT project_id, from_id, into_id, time, event_seq, device_id, undone FROM merges", func(rows *sql.Rows) error {
		var v storage.Merge
		var undone uint8
		if err := rows.Scan(&v.ProjectID, &v.FromID, &v.IntoID, &v.Time, &v.EventSeq, &v.DeviceID, &undone); err != nil {
			return err
		}
		v.Undone = undone == 1
		return fn(&v)
	})
}

// LoadGroups calls fn for each group. fn must not keep the pointer.
func (d *DB) LoadGroups(ctx context.Context, fn func(*storage.Group) error) error {
	return d.each(ctx, "load groups", "SELECT project_id, group_type, group_value, properties FROM groups", func(rows *sql.Rows) error {
		var v storage.Group
		if err := rows.Scan(&v.ProjectID, &v.GroupType, &v.GroupValue, nullBytes{&v.Properties}); err != nil {
			return err
		}
		return fn(&v)
	})
}

// Sessions calls fn for each session of a project with its partials
// combined. fn must not keep the pointer.
func (d *DB) Sessions(ctx context.Context, projectID int64, fn func(*storage.Session) error) error {
	return d.each(ctx, "sessions", `SELECT project_id, amplitude_id, session_id, start, last_event, event_count
		FROM sessions WHERE project_id = ?`, func(rows *sql.Rows) error {
		var v storage.Session
		if err := rows.Scan(&v.ProjectID, &v.AmplitudeID, &v.SessionID, &v.Start, &v.LastEvent, &v.EventCount); err != nil {
			return err
		}
		return fn(&v)
	}, projectID)
}

// each runs query and calls fn for each row; what names the load in errors.
func (d *DB) each(ctx context.Context, what, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := d.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
