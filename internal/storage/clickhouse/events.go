package clickhouse

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// eventColumn maps one events column to an event.Event field: the value
// Apply inserts and the destination a read scans into.
type eventColumn struct {
	name  string
	value func(e *event.Event) any
	scan  func(e *event.Event) any
}

func strCol(name string, f func(e *event.Event) *string) eventColumn {
	return eventColumn{name, func(e *event.Event) any { return nullStr(*f(e)) }, func(e *event.Event) any { return nullString{f(e)} }}
}

func jsonCol(name string, f func(e *event.Event) *[]byte) eventColumn {
	return eventColumn{name, func(e *event.Event) any { return nullJSON(*f(e)) }, func(e *event.Event) any { return nullBytes{f(e)} }}
}

func intCol(name string, f func(e *event.Event) *int64) eventColumn {
	return eventColumn{name, func(e *event.Event) any { return *f(e) }, func(e *event.Event) any { return f(e) }}
}

// intOrCol stores absent as NULL and reads NULL back as absent.
func intOrCol(name string, absent int64, f func(e *event.Event) *int64) eventColumn {
	return eventColumn{name, func(e *event.Event) any {
		if *f(e) == absent {
			return nil
		}
		return *f(e)
	}, func(e *event.Event) any { return nullInt{f(e), absent} }}
}

func floatPtrCol(name string, f func(e *event.Event) **float64) eventColumn {
	return eventColumn{name, func(e *event.Event) any {
		if *f(e) == nil {
			return nil
		}
		return **f(e)
	}, func(e *event.Event) any { return nullFloat{f(e)} }}
}

// eventColumns lists the events columns in table order (schema.go), the
// same as the DuckDB backend's. SkipUserPropertiesSync is not stored.
var eventColumns = []eventColumn{
	intCol("project_id", func(e *event.Event) *int64 { return &e.ProjectID }),
	intCol("event_time", func(e *event.Event) *int64 { return &e.Time }),
	intCol("seq", func(e *event.Event) *int64 { return &e.Seq }),
	intCol("amplitude_id", func(e *event.Event) *int64 { return &e.AmplitudeID }),
	{"event_type", func(e *event.Event) any { return e.EventType }, func(e *event.Event) any { return &e.EventType }},
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
	{"quantity", func(e *event.Event) any {
		if e.Quantity == nil {
			return nil
		}
		return *e.Quantity
	}, func(e *event.Event) any { return nullIntPtr{&e.Quantity} }},
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

func eventColumnNames() []string {
	names := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		names[i] = c.name
	}
	return names
}

func eventValues(e *event.Event) []any {
	out := make([]any, len(eventColumns), len(eventColumns)+3)
	for i, c := range eventColumns {
		out[i] = c.value(e)
	}
	return out
}

// EventsByInsertID returns the stored events of a project with the given
// insert_id, in seq order, decoded back into event.Event values. It is
// meant for tests and debugging, not for the query path.
func (d *DB) EventsByInsertID(ctx context.Context, projectID int64, insertID string) ([]event.Event, error) {
	rows, err := d.QueryContext(ctx, "SELECT "+strings.Join(eventColumnNames(), ", ")+
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
	if d.closed.Load() {
		return 0, storage.ErrClosed
	}
	var n uint64
	if err := d.db.QueryRowContext(ctx, "SELECT count() FROM events WHERE project_id = ?", projectID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return int64(n), nil
}

// Values for Nullable columns: absent is NULL.

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// splitHash stores the 16-byte dedup hash as two big-endian halves, as
// the DuckDB backend does.
func splitHash(h [16]byte) (int64, int64) {
	return int64(binary.BigEndian.Uint64(h[:8])), int64(binary.BigEndian.Uint64(h[8:]))
}

// Scanners mapping NULL to Crest's absent values.

type nullString struct{ p *string }

func (s nullString) Scan(v any) error {
	var n sql.NullString
	if err := n.Scan(deref(v)); err != nil {
		return err
	}
	*s.p = n.String
	return nil
}

type nullBytes struct{ p *[]byte }

func (s nullBytes) Scan(v any) error {
	var n sql.NullString
	if err := n.Scan(deref(v)); err != nil {
		return err
	}
	*s.p = nil
	if n.Valid {
		*s.p = []byte(n.String)
	}
	return nil
}

type nullInt struct {
	p      *int64
	absent int64
}

func (s nullInt) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(deref(v)); err != nil {
		return err
	}
	*s.p = s.absent
	if n.Valid {
		*s.p = n.Int64
	}
	return nil
}

type nullIntPtr struct{ p **int64 }

func (s nullIntPtr) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(deref(v)); err != nil {
		return err
	}
	*s.p = nil
	if n.Valid {
		x := n.Int64
		*s.p = &x
	}
	return nil
}

type nullFloat struct{ p **float64 }

func (s nullFloat) Scan(v any) error {
	var n sql.NullFloat64
	if err := n.Scan(deref(v)); err != nil {
		return err
	}
	*s.p = nil
	if n.Valid {
		x := n.Float64
		*s.p = &x
	}
	return nil
}

// deref turns the pointers the driver hands out for Nullable values into
// plain values (nil for NULL).
func deref(v any) any {
	switch x := v.(type) {
	case *string:
		if x == nil {
			return nil
		}
		return *x
	case *int64:
		if x == nil {
			return nil
		}
		return *x
	case *float64:
		if x == nil {
			return nil
		}
		return *x
	}
	return v
}
