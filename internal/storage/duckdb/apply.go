package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// counter is one row of the counters table.
type counter struct {
	name  string
	value int64
}

var counterColumns = []column[counter]{
	{name: "name", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *counter) error {
		return ch.string(c, r, v.name)
	}},
	{name: "value", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *counter) error { return setInt(ch, c, r, v.value) }},
}

// tables are the staged inputs of Apply, one per target table. They are
// only touched with DB.mu held.
type tables struct {
	events   *table[event.Event]
	dedup    *table[storage.DedupKey]
	users    *table[storage.User]
	devices  *table[storage.Device]
	userIDs  *table[storage.UserID]
	merges   *table[storage.Merge]
	sessions *table[storage.Session]
	groups   *table[storage.Group]
	counters *table[counter]
	fill     *slotFill // promoted slot values of the events (slotfill.go)
	// arena holds the long strings the tables' chunks point at
	// (chunk.go); clear releases it once the transaction has ended.
	arena *arena
}

func newTables(s *sources) *tables {
	fill := &slotFill{}
	t := &tables{
		fill:     fill,
		events:   newEventsTable(fill),
		dedup:    newTable(dedupColumns),
		users:    newTable(userColumns),
		devices:  newTable(deviceColumns),
		userIDs:  newTable(userIDColumns),
		merges:   newTable(mergeColumns),
		sessions: newTable(sessionColumns),
		groups:   newTable(groupColumns),
		counters: newTable(counterColumns),
		arena:    &arena{},
	}
	t.events.arena = t.arena
	t.dedup.arena = t.arena
	t.users.arena = t.arena
	t.devices.arena = t.arena
	t.userIDs.arena = t.arena
	t.merges.arena = t.arena
	t.sessions.arena = t.arena
	t.groups.arena = t.arena
	t.counters.arena = t.arena
	s.set("events", t.events)
	s.set("dedup", t.dedup)
	s.set("users", t.users)
	s.set("devices", t.devices)
	s.set("user_ids", t.userIDs)
	s.set("merges", t.merges)
	s.set("sessions", t.sessions)
	s.set("groups", t.groups)
	s.set("counters", t.counters)
	return t
}

// step is one statement of Apply, run when it has rows.
type step struct {
	name  string
	rows  int
	query string
}

// Apply stores u atomically: its events, dedup keys, state upserts,
// session partials, counters and position commit in one DuckDB
// transaction, or none of them does.
func (d *DB) Apply(ctx context.Context, u *storage.Unit) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return storage.ErrClosed
	}
	t := d.tables
	t.events.rows = u.Events
	t.dedup.rows = u.Dedup
	t.users.rows = lastByKey(u.Users, func(v *storage.User) [2]int64 { return [2]int64{v.ProjectID, v.AmplitudeID} })
	t.devices.rows = lastByKey(u.Devices, func(v *storage.Device) struct {
		p int64
		d string
	} {
		return struct {
			p int64
			d string
		}{v.ProjectID, v.DeviceID}
	})
	t.userIDs.rows = lastByKey(u.UserIDs, func(v *storage.UserID) struct {
		p int64
		u string
	} {
		return struct {
			p int64
			u string
		}{v.ProjectID, v.UserID}
	})
	t.merges.rows = lastByKey(u.Merges, func(v *storage.Merge) [2]int64 { return [2]int64{v.ProjectID, v.FromID} })
	t.sessions.rows = combineSessions(u.Sessions)
	t.groups.rows = lastByKey(u.Groups, func(v *storage.Group) [3]string {
		return [3]string{fmt.Sprint(v.ProjectID), v.GroupType, v.GroupValue}
	})
	t.counters.rows = t.counters.rows[:0]
	for name, v := range u.Counters {
		t.counters.rows = append(t.counters.rows, counter{name, v})
	}
	sort.Slice(t.counters.rows, func(i, j int) bool { return t.counters.rows[i].name < t.counters.rows[j].name })
	defer t.clear()

	slots := d.promo.slots.Load()
	t.fill.fill(slots, u.Events, d.promo) // counts the keys too
	promo := d.promo.plan()
	var steps []step
	for i, s := range promo.stmts {
		steps = append(steps, step{fmt.Sprintf("promote %s", promo.keys[i/2]), 1, s})
	}
	if promo.next != nil {
		slots = promo.next
		t.fill.fill(slots, u.Events, nil)
	}
	steps = append(steps, []step{
		{"events", len(t.events.rows), insertEvents(slots, t.fill)},
		{"dedup", len(t.dedup.rows), "INSERT INTO dedup BY NAME SELECT * FROM crest_src('dedup')"},
		{"users", len(t.users.rows), "INSERT OR REPLACE INTO users BY NAME SELECT * FROM crest_src('users')"},
		{"devices", len(t.devices.rows), "INSERT OR REPLACE INTO devices BY NAME SELECT * FROM crest_src('devices')"},
		{"user_ids", len(t.userIDs.rows), "INSERT OR REPLACE INTO user_ids BY NAME SELECT * FROM crest_src('user_ids')"},
		{"merges", len(t.merges.rows), "INSERT OR REPLACE INTO merges BY NAME SELECT * FROM crest_src('merges')"},
		{"sessions", len(t.sessions.rows), `INSERT INTO sessions BY NAME SELECT * FROM crest_src('sessions')
			ON CONFLICT (project_id, amplitude_id, session_id) DO UPDATE SET
				start = least(sessions.start, excluded.start),
				last_event = greatest(sessions.last_event, excluded.last_event),
				event_count = sessions.event_count + excluded.event_count`},
		{"groups", len(t.groups.rows), "INSERT OR REPLACE INTO groups BY NAME SELECT * FROM crest_src('groups')"},
		{"counters", len(t.counters.rows), "INSERT OR REPLACE INTO counters BY NAME SELECT * FROM crest_src('counters')"},
	}...)

	// Statements run without ctx's cancellation: interrupting DuckDB
	// mid-statement makes database/sql discard the writer connection.
	// ctx is checked between steps instead; each step takes milliseconds.
	if err := d.ensureWriter(ctx); err != nil {
		return fmt.Errorf("apply position %d: %w", u.Position, err)
	}
	tx, err := d.wconn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("apply position %d: begin: %w", u.Position, err)
	}
	if err := d.applySteps(ctx, tx, steps, u.Position); err != nil {
		if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
			d.dropWriter()
		}
		// A cancelled ctx has already rolled the transaction back.
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return fmt.Errorf("apply position %d: %w (rollback: %v)", u.Position, err, rerr)
		}
		return fmt.Errorf("apply position %d: %w", u.Position, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply position %d: commit: %w", u.Position, err)
	}
	d.promo.commit(promo)
	return nil
}

func (d *DB) applySteps(ctx context.Context, tx *sql.Tx, steps []step, pos uint64) error {
	for _, s := range steps {
		if s.rows == 0 {
			continue
		}
		if err := d.runHook(s.name); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := d.exec(ctx, tx, s.query); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if err := d.runHook("position"); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("position: %w", err)
	}
	if _, err := tx.ExecContext(context.WithoutCancel(ctx), "INSERT OR REPLACE INTO applied_position VALUES (1, ?)", pos); err != nil {
		return fmt.Errorf("position: %w", err)
	}
	return nil
}

// exec runs one statement of Apply inside tx: through the writer's
// DuckDB handle when there is one (writer.go), else through tx.
func (d *DB) exec(ctx context.Context, tx *sql.Tx, query string) error {
	if d.wraw {
		return writerExec(d.whandle, query)
	}
	_, err := tx.ExecContext(context.WithoutCancel(ctx), query)
	return err
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

// clear drops the references to the last unit's rows, and the column
// selections cached for them (table.source), and releases the arena of
// their long strings. It runs after the unit's transaction has ended.
func (t *tables) clear() {
	t.events.stage(nil)
	t.dedup.stage(nil)
	t.users.stage(nil)
	t.devices.stage(nil)
	t.userIDs.stage(nil)
	t.merges.stage(nil)
	t.sessions.stage(nil)
	t.groups.stage(nil)
	t.counters.stage(t.counters.rows[:0])
	t.arena.reset()
	t.fill.m = nil
}
