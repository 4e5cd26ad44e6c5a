package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// ActivityEvent is one event of a user's activity stream, shaped like an
// export row (times as "2006-01-02 15:04:05.000000" UTC).
type ActivityEvent struct {
	EventType          string          `json:"event_type"`
	EventTime          string          `json:"event_time"`
	ClientEventTime    string          `json:"client_event_time"`
	ServerUploadTime   string          `json:"server_upload_time"`
	AmplitudeID        int64           `json:"amplitude_id"`
	UserID             *string         `json:"user_id"`
	DeviceID           *string         `json:"device_id"`
	SessionID          int64           `json:"session_id"`
	EventID            *int64          `json:"event_id"`
	InsertID           *string         `json:"$insert_id"`
	EventProperties    json.RawMessage `json:"event_properties"`
	UserProperties     json.RawMessage `json:"user_properties"`
	Groups             json.RawMessage `json:"groups"`
	AppVersion         string          `json:"app_version"`
	Platform           string          `json:"platform"`
	OSName             string          `json:"os_name"`
	OSVersion          string          `json:"os_version"`
	DeviceBrand        string          `json:"device_brand"`
	DeviceManufacturer string          `json:"device_manufacturer"`
	DeviceModel        string          `json:"device_model"`
	DeviceType         string          `json:"device_type"`
	Carrier            string          `json:"device_carrier"`
	Country            string          `json:"country"`
	Region             string          `json:"region"`
	City               string          `json:"city"`
	DMA                string          `json:"dma"`
	Language           string          `json:"language"`
	Library            string          `json:"library"`
	Revenue            *float64        `json:"revenue"`
	Price              *float64        `json:"price"`
	Quantity           *int64          `json:"quantity"`
	ProductID          string          `json:"product_id"`
	RevenueType        string          `json:"revenue_type"`
	LocationLat        *float64        `json:"location_lat"`
	LocationLng        *float64        `json:"location_lng"`

	// Time is event_time in UTC ms, for grouping; not rendered.
	Time int64 `json:"-"`
}

// ActivityOptions pages an activity stream.
type ActivityOptions struct {
	Offset   int
	Limit    int  // default and maximum 1,000
	Earliest bool // oldest first instead of newest first
}

// SessionGroup is a run of consecutive stream events of one session;
// out-of-session events (session_id -1) form their own runs.
type SessionGroup struct {
	SessionID int64           `json:"session_id"`
	Start     int64           `json:"start"` // UTC ms of the earliest event in the run
	End       int64           `json:"end"`
	Events    []ActivityEvent `json:"events"`
}

// Activity is a page of a user's activity stream.
type Activity struct {
	AmplitudeID int64           `json:"canonical_amplitude_id"`
	Events      []ActivityEvent `json:"-"`
	Sessions    []SessionGroup  `json:"sessions"`
	Offset      int             `json:"offset"`
	Limit       int             `json:"limit"`
}

const exportTime = "2006-01-02 15:04:05.000000"

func fmtTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(exportTime) }

// UserActivity returns a page of the events of the user owning
// amplitudeID (its merged ids included), newest first unless
// opts.Earliest, grouped by session.
func (e *Engine) UserActivity(ctx context.Context, p Project, amplitudeID int64, opts ActivityOptions) (*Activity, error) {
	if opts.Limit <= 0 || opts.Limit > 1000 {
		opts.Limit = 1000
	}
	if opts.Offset < 0 {
		return nil, fieldErr("offset", "must not be negative")
	}
	pr, err := e.resolveUser(ctx, p, amplitudeID)
	if err != nil {
		return nil, err
	}
	evs, err := e.activityEvents(ctx, p, pr, opts)
	if err != nil {
		return nil, err
	}
	return &Activity{AmplitudeID: pr.AmplitudeID, Events: evs, Sessions: GroupSessions(evs), Offset: opts.Offset, Limit: opts.Limit}, nil
}

func (e *Engine) activityEvents(ctx context.Context, p Project, pr *Profile, opts ActivityOptions) ([]ActivityEvent, error) {
	dir := "DESC"
	if opts.Earliest {
		dir = "ASC"
	}
	q := fmt.Sprintf("/* query.UserActivity */\n"+
		"SELECT event_type, event_time, client_event_time, server_upload_time, amplitude_id, user_id, device_id, session_id, event_id, insert_id, "+
		"event_properties, user_properties, groups, app_version, platform, os_name, os_version, device_brand, device_manufacturer, "+
		"device_model, device_type, carrier, country, region, city, dma, language, library, revenue, price, quantity, product_id, "+
		"revenue_type, location_lat, location_lng FROM events WHERE project_id = %d AND amplitude_id IN (%s) "+
		"ORDER BY event_time %s, seq %s LIMIT %d OFFSET %d", p.ID, pr.idList(), dir, dir, opts.Limit, opts.Offset)
	rows, err := e.q.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("user activity: %w", err)
	}
	defer rows.Close()
	out := []ActivityEvent{}
	for rows.Next() {
		var (
			a                    ActivityEvent
			cet, sut             int64
			uid, did, iid        sql.NullString
			eid                  sql.NullInt64
			ep, up, gr           sql.NullString
			strs                 [16]sql.NullString
			rev, price, lat, lng sql.NullFloat64
			qty                  sql.NullInt64
		)
		dest := []any{&a.EventType, &a.Time, &cet, &sut, &a.AmplitudeID, &uid, &did, &a.SessionID, &eid, &iid, &ep, &up, &gr}
		for i := 0; i < 15; i++ {
			dest = append(dest, &strs[i])
		}
		dest = append(dest, &rev, &price, &qty, &strs[15])
		var rt sql.NullString
		dest = append(dest, &rt, &lat, &lng)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("user activity: %w", err)
		}
		a.EventTime, a.ClientEventTime, a.ServerUploadTime = fmtTime(a.Time), fmtTime(cet), fmtTime(sut)
		a.UserID, a.DeviceID, a.InsertID = nullStr(uid), nullStr(did), nullStr(iid)
		if eid.Valid && eid.Int64 >= 0 {
			a.EventID = &eid.Int64
		}
		a.EventProperties, a.UserProperties, a.Groups = rawObj(ep), rawObj(up), rawObj(gr)
		for i, f := range []*string{&a.AppVersion, &a.Platform, &a.OSName, &a.OSVersion, &a.DeviceBrand, &a.DeviceManufacturer,
			&a.DeviceModel, &a.DeviceType, &a.Carrier, &a.Country, &a.Region, &a.City, &a.DMA, &a.Language, &a.Library, &a.ProductID} {
			*f = strs[i].String
		}
		a.RevenueType = rt.String
		a.Revenue, a.Price, a.LocationLat, a.LocationLng = nullF(rev), nullF(price), nullF(lat), nullF(lng)
		if qty.Valid {
			a.Quantity = &qty.Int64
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func nullStr(s sql.NullString) *string {
	if !s.Valid || s.String == "" {
		return nil
	}
	return &s.String
}

func nullF(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	return &f.Float64
}

func rawObj(s sql.NullString) json.RawMessage {
	if !s.Valid || s.String == "" {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s.String)
}

// GroupSessions splits a stream into runs of consecutive events of one
// session.
func GroupSessions(evs []ActivityEvent) []SessionGroup {
	out := []SessionGroup{}
	for _, a := range evs {
		n := len(out)
		if n == 0 || out[n-1].SessionID != a.SessionID {
			out = append(out, SessionGroup{SessionID: a.SessionID, Start: a.Time, End: a.Time})
			n++
		}
		g := &out[n-1]
		g.Start, g.End = min(g.Start, a.Time), max(g.End, a.Time)
		g.Events = append(g.Events, a)
	}
	return out
}
