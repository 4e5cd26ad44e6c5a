package querytest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/query"
)

// lookup is a query block for the user look-up and catalog calls:
//
//	{"type":"user_search","q":"u1","prop":""}
//	{"type":"user_profile","amplitude_id":2}
//	{"type":"user_activity","amplitude_id":2,"offset":0,"limit":10,"earliest":false}
//	{"type":"event_types"}
//	{"type":"properties","kind":"event","event_type":""}
//	{"type":"property_values","prop":{"type":"event","key":"genre"},"event_type":""}
//	{"type":"point_users","definition":{...},"point":{"event":0,"x":"2024-01-01"},"limit":10,"offset":0}
//	{"type":"funnel_users","definition":{...funnel},"funnel_point":{"step":1,"outcome":"dropped"},"limit":10}
//	{"type":"retention_users","definition":{...retention},"retention_point":{"cohort":"2024-01-01","column":1}}
//
// point_users, funnel_users and retention_users print "total: N" and one
// line per user: "user: <amplitude_id> <user_id> events <n> last <time>".
type lookup struct {
	Type        string               `json:"type"`
	Q           string               `json:"q"`
	Prop        string               `json:"prop"`
	AmplitudeID int64                `json:"amplitude_id"`
	Offset      int                  `json:"offset"`
	Limit       int                  `json:"limit"`
	Earliest    bool                 `json:"earliest"`
	Kind        string               `json:"kind"`
	EventType   string               `json:"event_type"`
	PropRef     query.PropRef        `json:"prop_ref"`
	Definition  json.RawMessage      `json:"definition"`
	Point       query.Point          `json:"point"`
	FunnelPt    query.FunnelPoint    `json:"funnel_point"`
	RetentionPt query.RetentionPoint `json:"retention_point"`
}

func isLookup(def string) bool {
	var l lookup
	return json.Unmarshal([]byte(def), &l) == nil && l.Type != query.TypeSegmentation
}

func runLookup(t *testing.T, eng *query.Engine, p query.Project, now time.Time, def string) string {
	var l lookup
	if err := json.Unmarshal([]byte(def), &l); err != nil {
		return "error: " + err.Error()
	}
	ctx := t.Context()
	var b strings.Builder
	var err error
	switch l.Type {
	case "user_search":
		var r *query.UserSearch
		if r, err = eng.SearchUsers(ctx, p, l.Q, l.Prop, 0); err == nil {
			fmt.Fprintf(&b, "type: %s", r.Type)
			for _, m := range r.Matches {
				fmt.Fprintf(&b, "\nmatch: %d %q", m.AmplitudeID, m.UserID)
			}
		}
	case "user_profile":
		var r *query.Profile
		if r, err = eng.UserProfile(ctx, p, l.AmplitudeID); err == nil {
			fmt.Fprintf(&b, "amplitude_id: %d\nuser_id: %s\nmerged:", r.AmplitudeID, r.UserID)
			for _, m := range r.MergedIDs {
				fmt.Fprintf(&b, " %d@%s", m.AmplitudeID, time.UnixMilli(m.Time).UTC().Format(time.RFC3339))
			}
			fmt.Fprintf(&b, "\ndevices: %s\nproperties: %s\nfirst: %s\nlast: %s\nevents: %d\nsessions: %d\nusage_ms: %d\npurchases: %d\nrevenue: %s\ncountry: %s\nplatform: %s",
				strings.Join(r.DeviceIDs, " "), r.Properties, time.UnixMilli(r.FirstSeen).UTC().Format(time.RFC3339),
				time.UnixMilli(r.LastSeen).UTC().Format(time.RFC3339), r.NumEvents, r.NumSessions, r.UsageTime,
				r.Purchases, num(r.Revenue), r.Country, r.Platform)
		}
	case "user_activity":
		var r *query.Activity
		if r, err = eng.UserActivity(ctx, p, l.AmplitudeID, query.ActivityOptions{Offset: l.Offset, Limit: l.Limit, Earliest: l.Earliest}); err == nil {
			fmt.Fprintf(&b, "amplitude_id: %d", r.AmplitudeID)
			for _, s := range r.Sessions {
				fmt.Fprintf(&b, "\nsession %d:", s.SessionID)
				for _, e := range s.Events {
					fmt.Fprintf(&b, " %q@%s", e.EventType, time.UnixMilli(e.Time).UTC().Format("15:04"))
				}
			}
		}
	case "event_types":
		var r []query.EventTypeInfo
		if r, err = eng.EventTypes(ctx, p, 0); err == nil {
			for i, x := range r {
				if i > 0 {
					b.WriteString("\n")
				}
				fmt.Fprintf(&b, "%q: %d last %s active %v", x.Name, x.Count, time.UnixMilli(x.LastSeen).UTC().Format(time.RFC3339), x.Active)
			}
		}
	case "properties":
		var r []query.PropertyInfo
		if r, err = eng.Properties(ctx, p, l.Kind, l.EventType, 0); err == nil {
			for i, x := range r {
				if i > 0 {
					b.WriteString("\n")
				}
				fmt.Fprintf(&b, "%q: %d", x.Key, x.Count)
			}
		}
	case "property_values":
		var r []query.ValueCount
		if r, err = eng.PropertyValues(ctx, p, l.PropRef, l.EventType, 0, 0); err == nil {
			for i, x := range r {
				if i > 0 {
					b.WriteString("\n")
				}
				fmt.Fprintf(&b, "%q: %d", x.Value, x.Count)
			}
		}
	case "point_users":
		var s *query.Segmentation
		if s, err = query.ParseSegmentation(l.Definition); err != nil {
			break
		}
		var r *query.PointUsers
		if r, err = eng.UsersAtPoint(ctx, p, s, l.Point, l.Limit, l.Offset, now); err == nil {
			writePointUsers(&b, r)
		}
	case "funnel_users":
		var f *query.Funnel
		if f, err = query.ParseFunnel(l.Definition); err != nil {
			break
		}
		var r *query.PointUsers
		if r, err = eng.FunnelUsers(ctx, p, f, l.FunnelPt, l.Limit, l.Offset, now); err == nil {
			writePointUsers(&b, r)
		}
	case "retention_users":
		var rd *query.Retention
		if rd, err = query.ParseRetention(l.Definition); err != nil {
			break
		}
		var r *query.PointUsers
		if r, err = eng.RetentionUsers(ctx, p, rd, l.RetentionPt, l.Limit, l.Offset, now); err == nil {
			writePointUsers(&b, r)
		}
	default:
		return fmt.Sprintf("error: unknown query type %q", l.Type)
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return b.String()
}

func writePointUsers(b *strings.Builder, r *query.PointUsers) {
	fmt.Fprintf(b, "total: %d", r.Total)
	for _, u := range r.Users {
		fmt.Fprintf(b, "\nuser: %d %s events %d last %s", u.AmplitudeID, u.UserID, u.Events,
			time.UnixMilli(u.LastSeen).UTC().Format(time.RFC3339))
	}
}
