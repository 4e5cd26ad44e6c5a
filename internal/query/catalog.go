package query

import (
	"context"
	"fmt"
)

// EventTypeInfo is one event type of a project's catalog.
type EventTypeInfo struct {
	Name     string `json:"name"`
	Count    int64  `json:"count"`
	LastSeen int64  `json:"last_seen"` // UTC ms
	Active   bool   `json:"active"`
}

// EventTypes lists the event types seen since since (UTC ms), most
// frequent first.
func (e *Engine) EventTypes(ctx context.Context, p Project, since int64) ([]EventTypeInfo, error) {
	rows, err := e.q.QueryContext(ctx, fmt.Sprintf("/* query.EventTypes */\n"+
		"SELECT event_type, count(*) AS n, max(event_time) FROM events WHERE project_id = %d AND event_time >= %d "+
		"GROUP BY event_type ORDER BY n DESC, event_type", p.ID, since))
	if err != nil {
		return nil, fmt.Errorf("event types: %w", err)
	}
	defer rows.Close()
	out := []EventTypeInfo{}
	inactive := map[string]bool{}
	for _, t := range inactiveTypes {
		inactive[t] = true
	}
	for rows.Next() {
		var x EventTypeInfo
		if err := rows.Scan(&x.Name, &x.Count, &x.LastSeen); err != nil {
			return nil, fmt.Errorf("event types: %w", err)
		}
		x.Active = !inactive[x.Name]
		out = append(out, x)
	}
	return out, rows.Err()
}

// PropertyInfo is one property key of the catalog, with the number of
// events (or users) that carry it.
type PropertyInfo struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// catalogSample bounds the events scanned for property keys: the most
// recent ones carry the live schema, and the catalog feeds pickers.
const catalogSample = 200_000

// Properties lists the property keys of type PropEvent (event properties
// of events since since, of eventType when not empty) or PropUser
// (current user properties), most common first.
func (e *Engine) Properties(ctx context.Context, p Project, typ, eventType string, since int64) ([]PropertyInfo, error) {
	var src string
	switch typ {
	case PropEvent, "":
		cond := ""
		if eventType != "" {
			cond = " AND event_type = " + e.d.String(eventType)
		}
		src = fmt.Sprintf("SELECT event_properties AS j FROM events WHERE project_id = %d AND event_time >= %d%s "+
			"AND event_properties IS NOT NULL ORDER BY event_time DESC LIMIT %d", p.ID, since, cond, catalogSample)
	case PropUser:
		src = fmt.Sprintf("SELECT properties AS j FROM users WHERE project_id = %d AND properties IS NOT NULL LIMIT %d", p.ID, catalogSample)
	default:
		return nil, fieldErr("type", "unknown property type %q (event or user)", typ)
	}
	rows, err := e.q.QueryContext(ctx, "/* query.Properties */\nSELECT k, count(*) AS n FROM (SELECT "+e.d.JSONKeys("j")+
		" AS k FROM ("+src+") s) x GROUP BY k ORDER BY n DESC, k")
	if err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	defer rows.Close()
	out := []PropertyInfo{}
	for rows.Next() {
		var x PropertyInfo
		if err := rows.Scan(&x.Key, &x.Count); err != nil {
			return nil, fmt.Errorf("properties: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// ValueCount is one value of a property with its number of events.
type ValueCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// PropertyValues returns the most common values of prop on events since
// since (of eventType when not empty), at most limit, for autocompletion.
// Unset values are left out.
func (e *Engine) PropertyValues(ctx context.Context, p Project, prop PropRef, eventType string, since int64, limit int) ([]ValueCount, error) {
	if err := prop.validate(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	cond := ""
	if eventType != "" {
		cond = " AND ev.event_type = " + e.d.String(eventType)
	}
	v := prop.text(e.d)
	rows, err := e.q.QueryContext(ctx, fmt.Sprintf("/* query.PropertyValues */\n"+
		"SELECT %s AS v, count(*) AS n FROM events ev WHERE ev.project_id = %d AND ev.event_time >= %d%s AND %s IS NOT NULL "+
		"GROUP BY v ORDER BY n DESC, v LIMIT %d", v, p.ID, since, cond, v, limit))
	if err != nil {
		return nil, fmt.Errorf("property values: %w", err)
	}
	defer rows.Close()
	out := []ValueCount{}
	for rows.Next() {
		var x ValueCount
		if err := rows.Scan(&x.Value, &x.Count); err != nil {
			return nil, fmt.Errorf("property values: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
