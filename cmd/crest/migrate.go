package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
	"github.com/crest-analytics/crest/internal/storage/clickhouse"
	"github.com/crest-analytics/crest/internal/storage/duckdb"
)

const migrateUsage = `Usage: crest migrate --data <dir> --to clickhouse://host:9000/db [flags]

Copies the events and state of the embedded store (<dir>/events.duckdb) to
ClickHouse. Run it with the server stopped. It is resumable: it writes as
the ClickHouse node "migrate-p<project>" (or "migrate-all") whose applied
position is the last event seq copied, so a second run continues where
the first stopped. At the end it records the embedded store's applied WAL
position and counters for the node named in --to (?node=, default ""), so
'crest serve --data <dir> --storage <same URL>' continues without replaying
the WAL into ClickHouse.

Flags:
`

// runMigrate implements `crest migrate`.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", envOr("CREST_DATA_DIR", "./crest-data"), "data `directory` holding events.duckdb (CREST_DATA_DIR)")
	to := fs.String("to", envOr("CREST_STORAGE", ""), "target `URL`, clickhouse://... (CREST_STORAGE)")
	project := fs.Int64("project", 0, "copy only this project `id` (0: every project)")
	batch := fs.Int("batch", 50_000, "events per insert `block`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), migrateUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.HasPrefix(*to, "clickhouse://") {
		fs.Usage()
		return fmt.Errorf("%w: --to must be a clickhouse:// URL", errUsage)
	}
	if *batch <= 0 {
		return fmt.Errorf("%w: --batch must be positive", errUsage)
	}
	opts, err := clickhouse.ParseDSN(*to)
	if err != nil {
		return err
	}
	src, err := duckdb.Open(ctx, filepath.Join(*dataDir, "events.duckdb"), duckdb.Options{})
	if err != nil {
		return fmt.Errorf("open embedded store: %w", err)
	}
	defer src.Close()
	serveNode := opts.Node
	opts.Node = "migrate-all"
	if *project != 0 {
		opts.Node = fmt.Sprintf("migrate-p%d", *project)
	}
	dst, err := clickhouse.Open(ctx, opts)
	if err != nil {
		return fmt.Errorf("open clickhouse: %w", err)
	}
	defer dst.Close()
	m := &migration{src: src, dst: dst, project: *project, batch: *batch, out: stderr}
	if err := m.run(ctx); err != nil {
		return err
	}
	// Record the embedded store's position and counters for the serving
	// node, so its pipeline resumes after what was copied.
	opts.Node = serveNode
	final, err := clickhouse.Open(ctx, opts)
	if err != nil {
		return fmt.Errorf("open clickhouse: %w", err)
	}
	defer final.Close()
	pos, err := src.AppliedPosition(ctx)
	if err != nil {
		return err
	}
	counters, err := src.Counters(ctx)
	if err != nil {
		return err
	}
	have, err := final.AppliedPosition(ctx)
	if err != nil {
		return err
	}
	if pos > have {
		if err := final.Apply(ctx, &storage.Unit{Position: pos, Counters: counters}); err != nil {
			return fmt.Errorf("record position: %w", err)
		}
	}
	fmt.Fprintf(stdout, "migrated %d events and the state of %s to %s (node %q at WAL position %d)\n",
		m.copied, m.what(), opts.Database, serveNode, pos)
	return nil
}

// migration copies events in seq order, then the state tables, each
// block a Unit whose position says how far the copy got: positions up to
// the largest seq are events (the position is the end of the block's seq
// range), positions above it number the state blocks.
type migration struct {
	src     *duckdb.DB
	dst     *clickhouse.DB
	project int64
	batch   int
	out     io.Writer

	copied int64
	total  int64
	start  time.Time
}

func (m *migration) what() string {
	if m.project == 0 {
		return "every project"
	}
	return fmt.Sprintf("project %d", m.project)
}

func (m *migration) projectCond() string {
	if m.project == 0 {
		return "TRUE"
	}
	return fmt.Sprintf("project_id = %d", m.project)
}

func (m *migration) run(ctx context.Context) error {
	var maxSeq sql.NullInt64
	if err := m.scalar(ctx, "SELECT max(seq) FROM events WHERE "+m.projectCond(), &maxSeq); err != nil {
		return err
	}
	done, err := m.dst.AppliedPosition(ctx)
	if err != nil {
		return err
	}
	if err := m.scalar(ctx, "SELECT count(*) FROM events WHERE "+m.projectCond(), &m.total); err != nil {
		return err
	}
	if err := m.scalar(ctx, fmt.Sprintf("SELECT count(*) FROM events WHERE %s AND seq <= %d", m.projectCond(), done), &m.copied); err != nil {
		return err
	}
	m.start = time.Now()
	// Events are read by seq range, not with LIMIT: DuckDB skips the row
	// groups outside a range by their min/max (rows are stored in about
	// seq order), where ORDER BY seq LIMIT n sorts the table each time.
	for last := int64(done); maxSeq.Valid && last < maxSeq.Int64; {
		to := min(last+int64(m.batch), maxSeq.Int64)
		evs, err := m.events(ctx, last, to)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			if err := m.dst.Apply(ctx, &storage.Unit{Position: uint64(to), Events: evs}); err != nil {
				return err
			}
			m.copied += int64(len(evs))
			m.draw(false)
		}
		last = to
	}
	m.draw(true)
	return m.state(ctx, uint64(max(maxSeq.Int64, 0)))
}

// state copies users, devices, user_ids, merges, groups, sessions and
// the dedup keys of the last week, in blocks numbered after base.
func (m *migration) state(ctx context.Context, base uint64) error {
	keep := func(p int64) bool { return m.project == 0 || p == m.project }
	var units []storage.Unit
	add := func(fill func(u *storage.Unit, n int) int) {
		for {
			u := storage.Unit{}
			if fill(&u, m.batch) == 0 {
				return
			}
			units = append(units, u)
		}
	}
	var users []storage.User
	var devices []storage.Device
	var userIDs []storage.UserID
	var merges []storage.Merge
	var groups []storage.Group
	var sessions []storage.Session
	var dedup []storage.DedupKey
	if err := m.src.LoadUsers(ctx, func(v *storage.User) error {
		if keep(v.ProjectID) {
			users = append(users, *v)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := m.src.LoadDevices(ctx, func(v *storage.Device) error {
		if keep(v.ProjectID) {
			devices = append(devices, *v)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := m.src.LoadUserIDs(ctx, func(v *storage.UserID) error {
		if keep(v.ProjectID) {
			userIDs = append(userIDs, *v)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := m.src.LoadMerges(ctx, func(v *storage.Merge) error {
		if keep(v.ProjectID) {
			merges = append(merges, *v)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := m.src.LoadGroups(ctx, func(v *storage.Group) error {
		if keep(v.ProjectID) {
			groups = append(groups, *v)
		}
		return nil
	}); err != nil {
		return err
	}
	var projects []int64
	if err := m.each(ctx, "SELECT DISTINCT project_id FROM sessions WHERE "+m.projectCond()+" ORDER BY 1", func(r *sql.Rows) error {
		var p int64
		if err := r.Scan(&p); err != nil {
			return err
		}
		projects = append(projects, p)
		return nil
	}); err != nil {
		return err
	}
	for _, p := range projects {
		if err := m.src.Sessions(ctx, p, func(v *storage.Session) error { sessions = append(sessions, *v); return nil }); err != nil {
			return err
		}
	}
	if err := m.src.LoadDedup(ctx, time.Now().Add(-7*24*time.Hour).UnixMilli(), func(k storage.DedupKey) error {
		dedup = append(dedup, k)
		return nil
	}); err != nil {
		return err
	}
	// A stable order, so a resumed run cuts the same blocks.
	sort.Slice(users, func(i, j int) bool {
		return users[i].ProjectID < users[j].ProjectID || users[i].ProjectID == users[j].ProjectID && users[i].AmplitudeID < users[j].AmplitudeID
	})
	sort.Slice(devices, func(i, j int) bool {
		return devices[i].ProjectID < devices[j].ProjectID || devices[i].ProjectID == devices[j].ProjectID && devices[i].DeviceID < devices[j].DeviceID
	})
	sort.Slice(userIDs, func(i, j int) bool {
		return userIDs[i].ProjectID < userIDs[j].ProjectID || userIDs[i].ProjectID == userIDs[j].ProjectID && userIDs[i].UserID < userIDs[j].UserID
	})
	sort.Slice(merges, func(i, j int) bool {
		return merges[i].ProjectID < merges[j].ProjectID || merges[i].ProjectID == merges[j].ProjectID && merges[i].FromID < merges[j].FromID
	})
	sort.Slice(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		return a.ProjectID < b.ProjectID || a.ProjectID == b.ProjectID && (a.GroupType < b.GroupType || a.GroupType == b.GroupType && a.GroupValue < b.GroupValue)
	})
	sort.Slice(sessions, func(i, j int) bool {
		a, b := sessions[i], sessions[j]
		return a.ProjectID < b.ProjectID || a.ProjectID == b.ProjectID && (a.AmplitudeID < b.AmplitudeID || a.AmplitudeID == b.AmplitudeID && a.SessionID < b.SessionID)
	})
	sort.Slice(dedup, func(i, j int) bool { return string(dedup[i].Hash[:]) < string(dedup[j].Hash[:]) })
	add(chunk(&users, func(u *storage.Unit, v []storage.User) { u.Users = v }))
	add(chunk(&devices, func(u *storage.Unit, v []storage.Device) { u.Devices = v }))
	add(chunk(&userIDs, func(u *storage.Unit, v []storage.UserID) { u.UserIDs = v }))
	add(chunk(&merges, func(u *storage.Unit, v []storage.Merge) { u.Merges = v }))
	add(chunk(&groups, func(u *storage.Unit, v []storage.Group) { u.Groups = v }))
	add(chunk(&sessions, func(u *storage.Unit, v []storage.Session) { u.Sessions = v }))
	add(chunk(&dedup, func(u *storage.Unit, v []storage.DedupKey) { u.Dedup = v }))
	for i := range units {
		units[i].Position = base + uint64(i) + 1
		if err := m.dst.Apply(ctx, &units[i]); err != nil {
			return err
		}
	}
	fmt.Fprintf(m.out, "state: %d users, %d devices, %d user ids, %d merges, %d groups, %d sessions, %d dedup keys\n",
		len(users), len(devices), len(userIDs), len(merges), len(groups), len(sessions), len(dedup))
	return nil
}

// chunk returns a filler that moves up to n rows of *rows into a unit.
func chunk[T any](rows *[]T, set func(u *storage.Unit, v []T)) func(u *storage.Unit, n int) int {
	off := 0
	return func(u *storage.Unit, n int) int {
		k := min(n, len(*rows)-off)
		if k > 0 {
			set(u, (*rows)[off:off+k])
			off += k
		}
		return k
	}
}

// draw prints a progress bar: on a terminal in place, else on its own
// line about every 5%.
func (m *migration) draw(final bool) {
	const width = 30
	frac := 1.0
	if m.total > 0 {
		frac = float64(m.copied) / float64(m.total)
	}
	n := int(frac * width)
	rate := float64(m.copied) / max(time.Since(m.start).Seconds(), 1e-3)
	line := fmt.Sprintf("events [%s%s] %5.1f%% %d/%d %.0f/s", strings.Repeat("=", n), strings.Repeat(" ", width-n),
		frac*100, m.copied, m.total, rate)
	if final {
		fmt.Fprintf(m.out, "\r%s\n", line)
		return
	}
	fmt.Fprintf(m.out, "\r%s", line)
}

func (m *migration) scalar(ctx context.Context, q string, dest any) error {
	rows, err := m.src.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read embedded store: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(dest); err != nil {
			return fmt.Errorf("read embedded store: %w", err)
		}
	}
	return rows.Err()
}

func (m *migration) each(ctx context.Context, q string, fn func(*sql.Rows) error) error {
	rows, err := m.src.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read embedded store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("read embedded store: %w", err)
		}
	}
	return rows.Err()
}

// events reads the events with after < seq <= to.
func (m *migration) events(ctx context.Context, after, to int64) ([]event.Event, error) {
	names := make([]string, len(migrateColumns))
	for i, c := range migrateColumns {
		names[i] = c.name
	}
	q := fmt.Sprintf("SELECT %s FROM events WHERE %s AND seq > %d AND seq <= %d ORDER BY seq",
		strings.Join(names, ", "), m.projectCond(), after, to)
	out := make([]event.Event, 0, m.batch)
	dst := make([]any, len(migrateColumns))
	err := m.each(ctx, q, func(r *sql.Rows) error {
		out = append(out, event.Event{})
		e := &out[len(out)-1]
		for i, c := range migrateColumns {
			dst[i] = c.scan(e)
		}
		return r.Scan(dst...)
	})
	return out, err
}

// migrateColumn reads one column of the embedded events table into an
// event.Event field, NULL as the field's absent value.
type migrateColumn struct {
	name string
	scan func(e *event.Event) any
}

func mcStr(name string, f func(e *event.Event) *string) migrateColumn {
	return migrateColumn{name, func(e *event.Event) any { return scanFunc(func(v any) { *f(e) = asString(v) }) }}
}

func mcJSON(name string, f func(e *event.Event) *[]byte) migrateColumn {
	return migrateColumn{name, func(e *event.Event) any {
		return scanFunc(func(v any) {
			if v != nil {
				*f(e) = []byte(asString(v))
			}
		})
	}}
}

func mcInt(name string, absent int64, f func(e *event.Event) *int64) migrateColumn {
	return migrateColumn{name, func(e *event.Event) any {
		return scanFunc(func(v any) {
			*f(e) = absent
			if n, ok := v.(int64); ok {
				*f(e) = n
			}
		})
	}}
}

func mcFloat(name string, f func(e *event.Event) **float64) migrateColumn {
	return migrateColumn{name, func(e *event.Event) any {
		return scanFunc(func(v any) {
			if x, ok := v.(float64); ok {
				*f(e) = &x
			}
		})
	}}
}

// scanFunc is a sql.Scanner that hands the driver's value to a function.
type scanFunc func(v any)

func (s scanFunc) Scan(v any) error { s(v); return nil }

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

// migrateColumns are the stored columns of event.Event (the embedded
// schema, internal/storage/duckdb/schema.go).
var migrateColumns = []migrateColumn{
	mcInt("project_id", 0, func(e *event.Event) *int64 { return &e.ProjectID }),
	mcInt("event_time", 0, func(e *event.Event) *int64 { return &e.Time }),
	mcInt("seq", 0, func(e *event.Event) *int64 { return &e.Seq }),
	mcInt("amplitude_id", 0, func(e *event.Event) *int64 { return &e.AmplitudeID }),
	mcStr("event_type", func(e *event.Event) *string { return &e.EventType }),
	mcStr("user_id", func(e *event.Event) *string { return &e.UserID }),
	mcStr("device_id", func(e *event.Event) *string { return &e.DeviceID }),
	mcInt("session_id", event.NoSession, func(e *event.Event) *int64 { return &e.SessionID }),
	mcInt("event_id", event.NoEventID, func(e *event.Event) *int64 { return &e.EventID }),
	mcStr("insert_id", func(e *event.Event) *string { return &e.InsertID }),
	mcInt("client_event_time", 0, func(e *event.Event) *int64 { return &e.ClientEventTime }),
	mcInt("client_upload_time", 0, func(e *event.Event) *int64 { return &e.ClientUploadTime }),
	mcInt("server_received_time", 0, func(e *event.Event) *int64 { return &e.ServerReceivedTime }),
	mcInt("server_upload_time", 0, func(e *event.Event) *int64 { return &e.ServerUploadTime }),
	mcJSON("event_properties", func(e *event.Event) *[]byte { return &e.EventProperties }),
	mcJSON("user_properties", func(e *event.Event) *[]byte { return &e.UserProperties }),
	mcJSON("user_property_ops", func(e *event.Event) *[]byte { return &e.UserPropertyOps }),
	mcJSON("groups", func(e *event.Event) *[]byte { return &e.Groups }),
	mcJSON("group_properties", func(e *event.Event) *[]byte { return &e.GroupProperties }),
	mcStr("app_version", func(e *event.Event) *string { return &e.AppVersion }),
	mcStr("start_version", func(e *event.Event) *string { return &e.StartVersion }),
	mcStr("platform", func(e *event.Event) *string { return &e.Platform }),
	mcStr("os_name", func(e *event.Event) *string { return &e.OSName }),
	mcStr("os_version", func(e *event.Event) *string { return &e.OSVersion }),
	mcStr("device_brand", func(e *event.Event) *string { return &e.DeviceBrand }),
	mcStr("device_manufacturer", func(e *event.Event) *string { return &e.DeviceManufacturer }),
	mcStr("device_model", func(e *event.Event) *string { return &e.DeviceModel }),
	mcStr("device_type", func(e *event.Event) *string { return &e.DeviceType }),
	mcStr("device_family", func(e *event.Event) *string { return &e.DeviceFamily }),
	mcStr("carrier", func(e *event.Event) *string { return &e.Carrier }),
	mcStr("browser", func(e *event.Event) *string { return &e.Browser }),
	mcStr("country", func(e *event.Event) *string { return &e.Country }),
	mcStr("region", func(e *event.Event) *string { return &e.Region }),
	mcStr("city", func(e *event.Event) *string { return &e.City }),
	mcStr("dma", func(e *event.Event) *string { return &e.DMA }),
	mcStr("language", func(e *event.Event) *string { return &e.Language }),
	mcFloat("location_lat", func(e *event.Event) **float64 { return &e.LocationLat }),
	mcFloat("location_lng", func(e *event.Event) **float64 { return &e.LocationLng }),
	mcStr("ip", func(e *event.Event) *string { return &e.IP }),
	mcStr("user_agent", func(e *event.Event) *string { return &e.UserAgent }),
	mcFloat("price", func(e *event.Event) **float64 { return &e.Price }),
	{"quantity", func(e *event.Event) any {
		return scanFunc(func(v any) {
			if n, ok := v.(int64); ok {
				e.Quantity = &n
			}
		})
	}},
	mcFloat("revenue", func(e *event.Event) **float64 { return &e.Revenue }),
	mcStr("product_id", func(e *event.Event) *string { return &e.ProductID }),
	mcStr("revenue_type", func(e *event.Event) *string { return &e.RevenueType }),
	mcStr("currency", func(e *event.Event) *string { return &e.Currency }),
	mcStr("idfa", func(e *event.Event) *string { return &e.IDFA }),
	mcStr("idfv", func(e *event.Event) *string { return &e.IDFV }),
	mcStr("adid", func(e *event.Event) *string { return &e.ADID }),
	mcStr("android_id", func(e *event.Event) *string { return &e.AndroidID }),
	mcStr("android_app_set_id", func(e *event.Event) *string { return &e.AndroidAppSetID }),
	mcStr("library", func(e *event.Event) *string { return &e.Library }),
	mcJSON("plan", func(e *event.Event) *[]byte { return &e.Plan }),
	mcJSON("ingestion_metadata", func(e *event.Event) *[]byte { return &e.IngestionMetadata }),
	mcStr("partner_id", func(e *event.Event) *string { return &e.PartnerID }),
	mcStr("paying", func(e *event.Event) *string { return &e.Paying }),
}
