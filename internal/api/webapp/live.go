package webapp

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/meta"
)

// LiveEvent is one event of the live feed: the stored event's fields.
type LiveEvent struct {
	Seq             int64           `json:"seq"`
	EventType       string          `json:"event_type"`
	EventTime       string          `json:"event_time"`
	ServerReceived  string          `json:"server_received_time"`
	AmplitudeID     int64           `json:"amplitude_id"`
	UserID          *string         `json:"user_id"`
	DeviceID        *string         `json:"device_id"`
	SessionID       int64           `json:"session_id"`
	InsertID        *string         `json:"insert_id"`
	EventProperties json.RawMessage `json:"event_properties"`
	UserProperties  json.RawMessage `json:"user_properties"`
	Groups          json.RawMessage `json:"groups"`
	AppVersion      string          `json:"app_version"`
	Platform        string          `json:"platform"`
	OSName          string          `json:"os_name"`
	OSVersion       string          `json:"os_version"`
	DeviceModel     string          `json:"device_model"`
	Country         string          `json:"country"`
	Region          string          `json:"region"`
	City            string          `json:"city"`
	Language        string          `json:"language"`
	Library         string          `json:"library"`
	IP              string          `json:"ip"`
	Revenue         *float64        `json:"revenue"`
}

// LiveOptions select the events of the live feed.
type LiveOptions struct {
	// After keeps events with a greater seq (newer than those seen).
	After int64
	// EventType keeps one event type when set.
	EventType string
	// User keeps events whose user_id or device_id is User, or whose
	// amplitude_id is User when it is a number.
	User  string
	Limit int
}

// maxLive bounds the events of one answer.
const maxLive = 500

// liveSQL returns the portable SQL of the feed (string literals through
// the dialect).
func (h *handlers) liveSQL(projectID int64, o LiveOptions) string {
	d := h.d.Dialect
	var b strings.Builder
	fmt.Fprintf(&b, "/* webapp.Live */\nSELECT seq, event_type, event_time, server_received_time, amplitude_id, user_id, device_id, "+
		"session_id, insert_id, event_properties, user_properties, groups, app_version, platform, os_name, os_version, "+
		"device_model, country, region, city, language, library, ip, revenue FROM events WHERE project_id = %d", projectID)
	if o.After > 0 {
		fmt.Fprintf(&b, " AND seq > %d", o.After)
	}
	if o.EventType != "" {
		fmt.Fprintf(&b, " AND event_type = %s", d.String(o.EventType))
	}
	if o.User != "" {
		lit := d.String(o.User)
		fmt.Fprintf(&b, " AND (user_id = %s OR device_id = %s", lit, lit)
		if n, err := strconv.ParseInt(o.User, 10, 64); err == nil && n > 0 {
			fmt.Fprintf(&b, " OR amplitude_id = %d", n)
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, " ORDER BY seq DESC LIMIT %d", o.Limit)
	return b.String()
}

func liveOptions(r *http.Request) (LiveOptions, error) {
	q := r.URL.Query()
	o := LiveOptions{EventType: q.Get("event_type"), User: strings.TrimSpace(q.Get("user")), Limit: 100}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return o, api.BadRequest("after: want a non-negative integer, got %q", v)
		}
		o.After = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLive {
			return o, api.BadRequest("limit: want 1 to %d, got %q", maxLive, v)
		}
		o.Limit = n
	}
	return o, nil
}

// live answers GET .../live: the latest events, newest first, and the
// greatest seq seen so far (to pass as after on the next poll).
func (h *handlers) live(r *http.Request, p meta.Project) (reply, error) {
	if h.d.Querier == nil || h.d.Dialect == nil {
		return reply{}, errors.New("webapp: live feed without an event store")
	}
	o, err := liveOptions(r)
	if err != nil {
		return reply{}, err
	}
	rows, err := h.d.Querier.QueryContext(r.Context(), h.liveSQL(p.ID, o))
	if err != nil {
		return reply{}, fmt.Errorf("live events: %w", err)
	}
	defer rows.Close()
	items := []LiveEvent{}
	latest := o.After
	for rows.Next() {
		var (
			e             LiveEvent
			evTime, recv  int64
			uid, did, iid sql.NullString
			ep, up, gr    sql.NullString
			strs          [11]sql.NullString
			rev           sql.NullFloat64
		)
		dest := []any{&e.Seq, &e.EventType, &evTime, &recv, &e.AmplitudeID, &uid, &did, &e.SessionID, &iid, &ep, &up, &gr}
		for i := range strs {
			dest = append(dest, &strs[i])
		}
		dest = append(dest, &rev)
		if err := rows.Scan(dest...); err != nil {
			return reply{}, fmt.Errorf("live events: %w", err)
		}
		e.EventTime, e.ServerReceived = fmtMS(evTime), fmtMS(recv)
		e.UserID, e.DeviceID, e.InsertID = nullStr(uid), nullStr(did), nullStr(iid)
		e.EventProperties, e.UserProperties, e.Groups = rawObj(ep), rawObj(up), rawObj(gr)
		for i, f := range []*string{&e.AppVersion, &e.Platform, &e.OSName, &e.OSVersion, &e.DeviceModel, &e.Country,
			&e.Region, &e.City, &e.Language, &e.Library, &e.IP} {
			*f = strs[i].String
		}
		if rev.Valid {
			e.Revenue = &rev.Float64
		}
		latest = max(latest, e.Seq)
		items = append(items, e)
	}
	if err := rows.Err(); err != nil {
		return reply{}, fmt.Errorf("live events: %w", err)
	}
	return ok(map[string]any{"items": items, "latest_seq": latest}), nil
}

func fmtMS(v int64) string {
	return time.UnixMilli(v).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func nullStr(s sql.NullString) *string {
	if !s.Valid || s.String == "" {
		return nil
	}
	return &s.String
}

func rawObj(s sql.NullString) json.RawMessage {
	if !s.Valid || s.String == "" {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s.String)
}

func isNotFound(err error) bool { return errors.Is(err, meta.ErrNotFound) }
