package clickhouse

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/crest-analytics/crest/internal/storage"
)

// Apply stores u exactly once. ClickHouse has no transaction across
// tables, so every row carries (node, position) and the row in
// positions, inserted last, commits the unit. If a step fails, the rows
// already inserted are deleted (ALTER ... DELETE, waited for) before
// Apply returns; if that fails too, the next Apply or Open deletes them
// before writing anything. A unit at or below the committed position has
// been applied and is skipped, which makes a retry after a lost
// acknowledgement harmless.
func (d *DB) Apply(ctx context.Context, u *storage.Unit) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return storage.ErrClosed
	}
	if d.applied > 0 && u.Position <= d.applied {
		return nil
	}
	if d.dirty {
		if err := d.cleanup(ctx); err != nil {
			return fmt.Errorf("apply position %d: %w", u.Position, err)
		}
	}
	d.dirty = true
	if err := d.applySteps(ctx, u); err != nil {
		// Remove the partial unit now, even if ctx is done.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if cerr := d.cleanup(cctx); cerr != nil {
			return fmt.Errorf("apply position %d: %w (clean-up deferred: %v)", u.Position, err, cerr)
		}
		return fmt.Errorf("apply position %d: %w", u.Position, err)
	}
	d.applied = u.Position
	d.dirty = false
	return nil
}

// nextVer returns a row version above every earlier one of this
// process: the wall clock in nanoseconds, bumped when it does not move.
// Versions order upserts of the same key across nodes as far as their
// clocks agree (docs/scale-out.md).
func (d *DB) nextVer() uint64 {
	v := uint64(time.Now().UnixNano())
	if v <= d.lastVer {
		v = d.lastVer + 1
	}
	d.lastVer = v
	return v
}

type insert struct {
	step  string
	table string
	cols  []string
	rows  int
	row   func(i int) []any
}

func (d *DB) applySteps(ctx context.Context, u *storage.Unit) error {
	ver := d.nextVer()
	tag := []any{d.opts.Node, u.Position, ver}
	users := lastByKey(u.Users, func(v *storage.User) [2]int64 { return [2]int64{v.ProjectID, v.AmplitudeID} })
	devices := lastByKey(u.Devices, func(v *storage.Device) string { return fmt.Sprint(v.ProjectID, "\x00", v.DeviceID) })
	userIDs := lastByKey(u.UserIDs, func(v *storage.UserID) string { return fmt.Sprint(v.ProjectID, "\x00", v.UserID) })
	merges := lastByKey(u.Merges, func(v *storage.Merge) [2]int64 { return [2]int64{v.ProjectID, v.FromID} })
	sessions := combineSessions(u.Sessions)
	groups := lastByKey(u.Groups, func(v *storage.Group) string {
		return fmt.Sprint(v.ProjectID, "\x00", v.GroupType, "\x00", v.GroupValue)
	})
	names := make([]string, 0, len(u.Counters))
	for n := range u.Counters {
		names = append(names, n)
	}
	sort.Strings(names)

	steps := []insert{
		{"events", "events", eventColumnNames(), len(u.Events), func(i int) []any { return eventValues(&u.Events[i]) }},
		{"dedup", "dedup", []string{"hash_hi", "hash_lo", "time"}, len(u.Dedup), func(i int) []any {
			hi, lo := splitHash(u.Dedup[i].Hash)
			return []any{hi, lo, u.Dedup[i].Time}
		}},
		{"users", "users_rows", []string{"project_id", "amplitude_id", "user_id", "properties", "first_seen", "last_seen",
			"device_ids", "has_device_ids", "first_platform", "first_country", "merged_into"}, len(users), func(i int) []any {
			v := &users[i]
			ids, has := v.DeviceIDs, uint8(1)
			if ids == nil {
				ids, has = []string{}, 0
			}
			return []any{v.ProjectID, v.AmplitudeID, nullStr(v.UserID), nullJSON(v.Properties), v.FirstSeen, v.LastSeen,
				ids, has, nullStr(v.FirstPlatform), nullStr(v.FirstCountry), v.MergedInto}
		}},
		{"devices", "devices_rows", []string{"project_id", "device_id", "amplitude_id", "anonymous_id"}, len(devices), func(i int) []any {
			v := &devices[i]
			return []any{v.ProjectID, v.DeviceID, v.AmplitudeID, v.AnonymousID}
		}},
		{"user_ids", "user_ids_rows", []string{"project_id", "user_id", "amplitude_id"}, len(userIDs), func(i int) []any {
			v := &userIDs[i]
			return []any{v.ProjectID, v.UserID, v.AmplitudeID}
		}},
		{"merges", "merges_rows", []string{"project_id", "from_id", "into_id", "time", "event_seq", "device_id", "undone"}, len(merges), func(i int) []any {
			v := &merges[i]
			undone := uint8(0)
			if v.Undone {
				undone = 1
			}
			return []any{v.ProjectID, v.FromID, v.IntoID, v.Time, v.EventSeq, v.DeviceID, undone}
		}},
		{"sessions", "sessions_rows", []string{"project_id", "amplitude_id", "session_id", "start", "last_event", "event_count"}, len(sessions), func(i int) []any {
			v := &sessions[i]
			return []any{v.ProjectID, v.AmplitudeID, v.SessionID, v.Start, v.LastEvent, v.EventCount}
		}},
		{"groups", "groups_rows", []string{"project_id", "group_type", "group_value", "properties"}, len(groups), func(i int) []any {
			v := &groups[i]
			return []any{v.ProjectID, v.GroupType, v.GroupValue, nullJSON(v.Properties)}
		}},
		{"counters", "counters_rows", []string{"name", "value"}, len(names), func(i int) []any {
			return []any{names[i], u.Counters[names[i]]}
		}},
		{"position", "positions", nil, 1, func(int) []any { return nil }},
	}
	for _, s := range steps {
		if s.rows == 0 {
			continue
		}
		if err := d.runHook(s.step); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", s.step, err)
		}
		if err := d.insertRows(ctx, s, tag); err != nil {
			return fmt.Errorf("%s: %w", s.step, err)
		}
	}
	return nil
}

// insertRows sends the rows of one step as one INSERT (one block). With
// ClickHouse 18.16 an INSERT must name its columns.
func (d *DB) insertRows(ctx context.Context, s insert, tag []any) error {
	cols := append(append([]string{}, s.cols...), "node", "position", "ver")
	builders := make([]column, len(cols))
	for j, c := range cols {
		b, err := newColumn(d.types[s.table][c], s.rows)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", s.table, c, err)
		}
		builders[j] = b
	}
	for i := range s.rows {
		row := s.row(i)
		for j, v := range row {
			if err := builders[j].add(v); err != nil {
				return fmt.Errorf("%s.%s: %w", s.table, cols[j], err)
			}
		}
		for j, v := range tag {
			if err := builders[len(row)+j].add(v); err != nil {
				return fmt.Errorf("%s.%s: %w", s.table, cols[len(row)+j], err)
			}
		}
	}
	batch, err := d.native.PrepareBatch(ctx, "INSERT INTO "+ident(s.table)+" ("+strings.Join(cols, ", ")+")")
	if err != nil {
		return err
	}
	defer batch.Abort() //nolint:errcheck // no-op after Send
	for j, b := range builders {
		if err := batch.Column(j).Append(b.values()); err != nil {
			return fmt.Errorf("%s.%s: %w", s.table, cols[j], err)
		}
	}
	return batch.Send()
}

// insertBlock inserts rows into table as one block.
func insertBlock(ctx context.Context, db *sql.DB, table string, cols []string, rows [][]any) error {
	return insertFunc(ctx, db, table, cols, len(rows), func(i int) []any { return rows[i] })
}

func insertFunc(ctx context.Context, db *sql.DB, table string, cols []string, n int, row func(i int) []any) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	st, err := tx.PrepareContext(ctx, "INSERT INTO "+ident(table)+" ("+strings.Join(cols, ", ")+")")
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range n {
		if _, err := st.ExecContext(ctx, row(i)...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (d *DB) runHook(step string) error {
	if d.applyHook == nil {
		return nil
	}
	if err := d.applyHook(step); err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	return nil
}

// cleanup deletes every row of this node above its committed position
// from every table and waits for the deletions to finish. The committed
// position is read back first: an acknowledgement lost after the
// position row was stored leaves that unit committed, not deleted.
func (d *DB) cleanup(ctx context.Context) error {
	pos, err := d.readPosition(ctx)
	if err != nil {
		return fmt.Errorf("clean up: %w", err)
	}
	d.applied = pos
	conns, suffix := []*sql.DB{d.db}, ""
	if d.opts.Cluster != "" {
		conns, suffix = d.shards, "_local"
	}
	for _, c := range conns {
		var issued bool
		for _, t := range d.physical() {
			var n uint64
			q := "SELECT count() FROM " + ident(t+suffix) + " WHERE node = ? AND position > ?"
			if err := c.QueryRowContext(ctx, q, d.opts.Node, pos).Scan(&n); err != nil {
				return fmt.Errorf("clean up %s: %w", t, err)
			}
			if n == 0 {
				continue
			}
			q = "ALTER TABLE " + ident(t+suffix) + " DELETE WHERE node = " + quote(d.opts.Node) + fmt.Sprintf(" AND position > %d", pos)
			if _, err := c.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("clean up %s: %w", t, err)
			}
			issued = true
		}
		if issued {
			if err := waitMutations(ctx, c); err != nil {
				return fmt.Errorf("clean up: %w", err)
			}
		}
	}
	d.dirty = false
	return nil
}

// waitMutations waits until the database has no unfinished mutation.
func waitMutations(ctx context.Context, c *sql.DB) error {
	for {
		var n uint64
		if err := c.QueryRowContext(ctx, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0").Scan(&n); err != nil {
			return fmt.Errorf("wait for mutations: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for mutations: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readPosition returns this node's committed position.
func (d *DB) readPosition(ctx context.Context) (uint64, error) {
	var pos uint64
	if err := d.db.QueryRowContext(ctx, "SELECT max(position) FROM positions WHERE node = ?", d.opts.Node).Scan(&pos); err != nil {
		return 0, fmt.Errorf("applied position: %w", err)
	}
	return pos, nil
}

// lastByKey drops all but the last row of each key, keeping the order of
// the survivors: ReplacingMergeTree would keep an arbitrary one of two
// rows with one key and one version.
func lastByKey[T any, K comparable](rows []T, key func(*T) K) []T {
	last := make(map[K]int, len(rows))
	for i := range rows {
		last[key(&rows[i])] = i
	}
	if len(last) == len(rows) {
		return rows
	}
	out := make([]T, 0, len(last))
	for i := range rows {
		if last[key(&rows[i])] == i {
			out = append(out, rows[i])
		}
	}
	return out
}

// combineSessions folds partials of the same key within a unit, so a
// unit has one row per session and a replay collapses with it.
func combineSessions(rows []storage.Session) []storage.Session {
	type key struct{ p, a, s int64 }
	idx := make(map[key]int, len(rows))
	var out []storage.Session
	for _, s := range rows {
		k := key{s.ProjectID, s.AmplitudeID, s.SessionID}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, s)
			continue
		}
		o := &out[i]
		o.Start = min(o.Start, s.Start)
		o.LastEvent = max(o.LastEvent, s.LastEvent)
		o.EventCount += s.EventCount
	}
	return out
}
