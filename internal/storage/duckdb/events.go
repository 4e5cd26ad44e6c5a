package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// eventColumn maps one events column to an event.Event field: how Apply
// writes it and how EventsByInsertID reads it back.
type eventColumn struct {
	column[event.Event]
	// scan returns a sql.Scanner (or plain pointer) that stores the
	// column's value into e.
	scan func(e *event.Event) any
}

func strCol(name string, f func(e *event.Event) *string) eventColumn {
	return eventColumn{
		column: column[event.Event]{name: name, typ: duckdb.TYPE_VARCHAR,
			set:    func(ch *chunk, c, r int, e *event.Event) error { return setStr(ch, c, r, *f(e)) },
			absent: func(e *event.Event) bool { return *f(e) == "" }},
		scan: func(e *event.Event) any { return nullString{f(e)} },
	}
}

func jsonCol(name string, f func(e *event.Event) *[]byte) eventColumn {
	return eventColumn{
		column: column[event.Event]{name: name, typ: duckdb.TYPE_VARCHAR,
			set:    func(ch *chunk, c, r int, e *event.Event) error { return setJSON(ch, c, r, *f(e)) },
			absent: func(e *event.Event) bool { return *f(e) == nil }},
		scan: func(e *event.Event) any { return nullBytes{f(e)} },
	}
}

func intCol(name string, f func(e *event.Event) *int64) eventColumn {
	return eventColumn{
		column: column[event.Event]{name: name, typ: duckdb.TYPE_BIGINT,
			set: func(ch *chunk, c, r int, e *event.Event) error { return setInt(ch, c, r, *f(e)) }},
		scan: func(e *event.Event) any { return f(e) },
	}
}

// intOrCol stores absent as NULL and reads NULL back as absent.
func intOrCol(name string, absent int64, f func(e *event.Event) *int64) eventColumn {
	return eventColumn{
		column: column[event.Event]{name: name, typ: duckdb.TYPE_BIGINT,
			set:    func(ch *chunk, c, r int, e *event.Event) error { return setIntOr(ch, c, r, *f(e), absent) },
			absent: func(e *event.Event) bool { return *f(e) == absent }},
		scan: func(e *event.Event) any { return nullInt{f(e), absent} },
	}
}

func floatPtrCol(name string, f func(e *event.Event) **float64) eventColumn {
	return eventColumn{
		column: column[event.Event]{name: name, typ: duckdb.TYPE_DOUBLE,
			set:    func(ch *chunk, c, r int, e *event.Event) error { return setFloatPtr(ch, c, r, *f(e)) },
			absent: func(e *event.Event) bool { return *f(e) == nil }},
		scan: func(e *event.Event) any { return f(e) },
	}
}

// eventColumns lists the events columns in table order (schema.go).
// SkipUserPropertiesSync is not stored: it only steers the pipeline.
var eventColumns = []eventColumn{
	intCol("project_id", func(e *event.Event) *int64 { return &e.ProjectID }),
	intCol("event_time", func(e *event.Event) *int64 { return &e.Time }),
	intCol("seq", func(e *event.Event) *int64 { return &e.Seq }),
	intCol("amplitude_id", func(e *event.Event) *int64 { return &e.AmplitudeID }),
	{
		// event_type is NOT NULL: stored as is, even when empty.
		column: column[event.Event]{name: "event_type", typ: duckdb.TYPE_VARCHAR,
			set: func(ch *chunk, c, r int, e *event.Event) error {
				return ch.string(c, r, e.EventType)
			}},
		scan: func(e *event.Event) any { return &e.EventType },
	},
	strCol("user_id", func(e *event.Event) *string { return &e.UserID }),
	strCol("device_id", func(e *event.Event) *string { return &e.DeviceID }),
	intCol("session_id", func(e *event.Event) *int64 { return &e.SessionID }),
	intOrCol("event_id", event.NoEventID, func(e *event.Event) *int64 { return &e.EventID }),
	strCol("insert_id", func(e *event.Event) *string { return &e.InsertID }),
	intCol("client_event_time", func(e *event.Event) *int64 { return &e.ClientEventTime }),
	intOrCol("client_upload_time", 0, func(e *event.Event) *int64 { return &e.ClientUploadTime }),
	intCol("server_received_time", func(e *event.Event) *int64 { return &e.ServerReceivedTime }),
	intCol("server_upload_time", func(e *event.Event) *int64 { return &e.ServerUploadTime }),
	jsonCol("event_properties", func(e *event.Event) *[]byte { return &e.EventProperties }),
	jsonCol("user_properties", func(e *event.Event) *[]byte { return &e.UserProperties }),
	jsonCol("user_property_ops", func(e *event.Event) *[]byte { return &e.UserPropertyOps }),
	jsonCol("groups", func(e *event.Event) *[]byte { return &e.Groups }),
	jsonCol("group_properties", func(e *event.Event) *[]byte { return &e.GroupProperties }),
	strCol("app_version", func(e *event.Event) *string { return &e.AppVersion }),
	strCol("start_version", func(e *event.Event) *string { return &e.StartVersion }),
	strCol("platform", func(e *event.Event) *string { return &e.Platform }),
	strCol("os_name", func(e *event.Event) *string { return &e.OSName }),
	strCol("os_version", func(e *event.Event) *string { return &e.OSVersion }),
	strCol("device_brand", func(e *event.Event) *string { return &e.DeviceBrand }),
	strCol("device_manufacturer", func(e *event.Event) *string { return &e.DeviceManufacturer }),
	strCol("device_model", func(e *event.Event) *string { return &e.DeviceModel }),
	strCol("device_type", func(e *event.Event) *string { return &e.DeviceType }),
	strCol("device_family", func(e *event.Event) *string { return &e.DeviceFamily }),
	strCol("carrier", func(e *event.Event) *string { return &e.Carrier }),
	strCol("browser", func(e *event.Event) *string { return &e.Browser }),
	strCol("country", func(e *event.Event) *string { return &e.Country }),
	strCol("region", func(e *event.Event) *string { return &e.Region }),
	strCol("city", func(e *event.Event) *string { return &e.City }),
	strCol("dma", func(e *event.Event) *string { return &e.DMA }),
	strCol("language", func(e *event.Event) *string { return &e.Language }),
	floatPtrCol("location_lat", func(e *event.Event) **float64 { return &e.LocationLat }),
	floatPtrCol("location_lng", func(e *event.Event) **float64 { return &e.LocationLng }),
	strCol("ip", func(e *event.Event) *string { return &e.IP }),
	strCol("user_agent", func(e *event.Event) *string { return &e.UserAgent }),
	floatPtrCol("price", func(e *event.Event) **float64 { return &e.Price }),
	{
		column: column[event.Event]{name: "quantity", typ: duckdb.TYPE_BIGINT,
			set:    func(ch *chunk, c, r int, e *event.Event) error { return setIntPtr(ch, c, r, e.Quantity) },
			absent: func(e *event.Event) bool { return e.Quantity == nil }},
		scan: func(e *event.Event) any { return &e.Quantity },
	},
	floatPtrCol("revenue", func(e *event.Event) **float64 { return &e.Revenue }),
	strCol("product_id", func(e *event.Event) *string { return &e.ProductID }),
	strCol("revenue_type", func(e *event.Event) *string { return &e.RevenueType }),
	strCol("currency", func(e *event.Event) *string { return &e.Currency }),
	strCol("idfa", func(e *event.Event) *string { return &e.IDFA }),
	strCol("idfv", func(e *event.Event) *string { return &e.IDFV }),
	strCol("adid", func(e *event.Event) *string { return &e.ADID }),
	strCol("android_id", func(e *event.Event) *string { return &e.AndroidID }),
	strCol("android_app_set_id", func(e *event.Event) *string { return &e.AndroidAppSetID }),
	strCol("library", func(e *event.Event) *string { return &e.Library }),
	jsonCol("plan", func(e *event.Event) *[]byte { return &e.Plan }),
	jsonCol("ingestion_metadata", func(e *event.Event) *[]byte { return &e.IngestionMetadata }),
	strCol("partner_id", func(e *event.Event) *string { return &e.PartnerID }),
	strCol("paying", func(e *event.Event) *string { return &e.Paying }),
}

// newEventsTable returns the events source: the stored columns, then the
// promoted slots and their defer flags as fill has them.
func newEventsTable(fill *slotFill) *table[event.Event] {
	cols := make([]column[event.Event], len(eventColumns))
	for i, c := range eventColumns {
		cols[i] = c.column
	}
	return newTable(append(cols, slotColumns(fill)...))
}

// EventsByInsertID returns the stored events of a project with the given
// insert_id, in seq order, decoded back into event.Event values. Fields
// stored as NULL come back as their absent value (see docs/storage.md).
// It is meant for tests and debugging, not for the query path.
func (d *DB) EventsByInsertID(ctx context.Context, projectID int64, insertID string) ([]event.Event, error) {
	names := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		names[i] = c.name
	}
	rows, err := d.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+
		" FROM events WHERE project_id = ? AND insert_id = ? ORDER BY seq", projectID, insertID)
	if err != nil {
		return nil, fmt.Errorf("events by insert_id: %w", err)
	}
	defer rows.Close()
	var out []event.Event
	dst := make([]any, len(eventColumns))
	for rows.Next() {
		out = append(out, event.Event{})
		e := &out[len(out)-1]
		for i, c := range eventColumns {
			dst[i] = c.scan(e)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("events by insert_id: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events by insert_id: %w", err)
	}
	return out, nil
}

// CountEvents returns the number of stored events of a project.
func (d *DB) CountEvents(ctx context.Context, projectID int64) (int64, error) {
	var n int64
	if d.closed.Load() {
		return 0, storage.ErrClosed
	}
	if err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE project_id = ?", projectID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// Scanners mapping NULL to Crest's absent values.

type nullString struct{ p *string }

func (s nullString) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.p = ""
	case string:
		*s.p = x
	case []byte:
		*s.p = string(x)
	default:
		return fmt.Errorf("scan %T into string", v)
	}
	return nil
}

type nullBytes struct{ p *[]byte }

func (s nullBytes) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.p = nil
	case string:
		*s.p = []byte(x)
	case []byte:
		*s.p = append([]byte{}, x...)
	default:
		return fmt.Errorf("scan %T into bytes", v)
	}
	return nil
}

type nullInt struct {
	p      *int64
	absent int64
}

func (s nullInt) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	*s.p = s.absent
	if n.Valid {
		*s.p = n.Int64
	}
	return nil
}
