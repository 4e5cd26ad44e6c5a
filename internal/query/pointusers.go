package query

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Point names one data point of an event segmentation chart: the event
// (letter A, B, ... as index 0, 1, ...), the bucket start as in the
// result's x_values ("" for the whole range, the collapsed figure), the
// series' group-by values (in group-by order,
// "(none)" for unset) and the segment index.
type Point struct {
	Event   int      `json:"event"`
	X       string   `json:"x"`
	Group   []string `json:"group,omitempty"`
	Segment int      `json:"segment"`
}

// PointUser is one user behind a data point.
type PointUser struct {
	// AmplitudeID is the canonical Amplitude ID (merges applied).
	AmplitudeID int64  `json:"amplitude_id"`
	UserID      string `json:"user_id"`
	// Events is the number of the point's events the user did in the
	// bucket (or the whole range). Behind a funnel bar it is the number
	// of the user's sequences there (more than one counting totals or
	// holding a property constant); behind a retention cell, the number
	// of the user's cohorts counted there (more than one only overall).
	Events int64 `json:"events"`
	// LastSeen is the time of the user's last such event (UTC ms); for a
	// funnel bar, of the latest entry event of those sequences; for a
	// retention cell, the start of the latest of those cohorts.
	LastSeen int64 `json:"last_seen"`
}

// PointUsers is a page of the users behind a data point.
type PointUsers struct {
	// Total is the number of users behind the point (its uniques).
	Total  int64       `json:"total"`
	Users  []PointUser `json:"users"`
	Offset int         `json:"offset"`
	Limit  int         `json:"limit"`
}

// MaxPointUsers is the largest page of PointUsers.
const MaxPointUsers = 1000

// UsersAtPoint lists the users behind one data point of segmentation
// chart s for project p: the distinct canonical users who did the point's
// event in its bucket, under the event's filters and the segment, as the
// chart counts its uniques. Users come newest activity first, limit (1 to
// MaxPointUsers, 0 means 100) from offset. now anchors relative ranges.
// Bad points are *FieldError's under "point", "limit" or "offset".
func (e *Engine) UsersAtPoint(ctx context.Context, p Project, s *Segmentation, pt Point, limit, offset int, now time.Time) (*PointUsers, error) {
	limit, err := pageArgs(limit, offset)
	if err != nil {
		return nil, err
	}
	if pt.Event < 0 || pt.Event >= len(s.Events) {
		return nil, fieldErr("point.event", "no event %d (the chart has %d)", pt.Event, len(s.Events))
	}
	ev := &s.Events[pt.Event]
	segs := s.Segments
	if len(segs) == 0 {
		segs = []Segment{{Name: "All Users", Users: "any"}}
	}
	if pt.Segment < 0 || pt.Segment >= len(segs) {
		return nil, fieldErr("point.segment", "no segment %d (the chart has %d)", pt.Segment, len(segs))
	}
	seg := &segs[pt.Segment]
	if len(pt.Group) != len(ev.GroupBy) {
		return nil, fieldErr("point.group", "want %d group values (the event's group-by), got %d", len(ev.GroupBy), len(pt.Group))
	}
	fr, err := newFrame(p, s.Range, s.Interval, s.weekStart(), now)
	if err != nil {
		return nil, err
	}
	b := fr.b
	// The point is selected where the events are read (its bucket's time
	// span, its group values), so the rest is the chart's own SQL.
	var where []string
	if pt.X != "" {
		bkt := -1
		for i := 0; i < b.n(); i++ {
			if b.label(i) == pt.X {
				bkt = i
				break
			}
		}
		if bkt < 0 {
			return nil, fieldErr("point.x", "%q is not an x value of the chart", pt.X)
		}
		where = append(where, fmt.Sprintf("ev.event_time >= %d AND ev.event_time < %d", b.starts[bkt].UnixMilli(), b.starts[bkt+1].UnixMilli()))
	}
	for i, g := range pt.Group {
		x := ev.GroupBy[i].text(e.d)
		if g == None {
			where = append(where, x+" IS NULL")
		} else {
			where = append(where, x+" = "+e.d.String(g))
		}
	}
	c := &compiler{d: e.d, project: p.ID, b: b}
	src := c.sourceCols(ev, seg, nil, "", true, []string{"ev.event_time AS t"}, where)
	pu := src + ",\npu AS (SELECT uid, count(*) AS n, max(t) AS last FROM s GROUP BY uid)\n"

	out := &PointUsers{Users: []PointUser{}, Offset: offset, Limit: limit}
	if err := e.scanOne(ctx, "/* query.UsersAtPoint.count */\n"+pu+"SELECT count(*) FROM pu", &out.Total); err != nil {
		return nil, err
	}
	if int64(offset) >= out.Total {
		return out, nil
	}
	q := fmt.Sprintf("/* query.UsersAtPoint */\n%s"+
		"SELECT pu.uid, coalesce(max(u.user_id), ''), max(pu.n), max(pu.last) FROM pu "+
		"LEFT JOIN (SELECT amplitude_id, user_id FROM users WHERE project_id = %d) u ON u.amplitude_id = pu.uid "+
		"GROUP BY pu.uid ORDER BY max(pu.last) DESC, pu.uid LIMIT %d OFFSET %d", pu, p.ID, limit, offset)
	rows, err := e.q.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("users at point: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u PointUser
		var uid sql.NullString
		if err := rows.Scan(&u.AmplitudeID, &uid, &u.Events, &u.LastSeen); err != nil {
			return nil, fmt.Errorf("users at point: %w", err)
		}
		u.UserID = uid.String
		out.Users = append(out.Users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users at point: %w", err)
	}
	return out, nil
}

// pageArgs checks a page of point users and returns the limit (0 means
// 100).
func pageArgs(limit, offset int) (int, error) {
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > MaxPointUsers {
		return 0, fieldErr("limit", "want 1 to %d, got %d", MaxPointUsers, limit)
	}
	if offset < 0 {
		return 0, fieldErr("offset", "must not be negative, got %d", offset)
	}
	return limit, nil
}

// pointTally gathers the users behind a funnel or retention point from
// the kernel's recorded outcomes: per user, the outcomes counted and the
// latest time.
type pointTally map[int64]*PointUser

func (t pointTally) add(uid, ts int64) {
	u := t[uid]
	if u == nil {
		u = &PointUser{AmplitudeID: uid, LastSeen: ts}
		t[uid] = u
	}
	u.Events++
	u.LastSeen = max(u.LastSeen, ts)
}

// page returns the users of t latest first (then by id), limit from
// offset, with their user ids read from the users table.
func (e *Engine) page(ctx context.Context, p Project, t pointTally, limit, offset int) (*PointUsers, error) {
	out := &PointUsers{Total: int64(len(t)), Users: []PointUser{}, Offset: offset, Limit: limit}
	all := make([]*PointUser, 0, len(t))
	for _, u := range t {
		all = append(all, u)
	}
	slices.SortFunc(all, func(a, b *PointUser) int {
		if c := cmp.Compare(b.LastSeen, a.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.AmplitudeID, b.AmplitudeID)
	})
	if offset >= len(all) {
		return out, nil
	}
	all = all[offset:min(len(all), offset+limit)]
	ids := make([]string, len(all))
	for i, u := range all {
		ids[i] = strconv.FormatInt(u.AmplitudeID, 10)
	}
	q := fmt.Sprintf("/* query.PointUsers.user_ids */\nSELECT amplitude_id, max(user_id) FROM users WHERE project_id = %d AND amplitude_id IN (%s) GROUP BY amplitude_id",
		p.ID, strings.Join(ids, ", "))
	rows, err := e.q.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("point users: %w", err)
	}
	defer rows.Close()
	names := map[int64]string{}
	for rows.Next() {
		var id int64
		var uid sql.NullString
		if err := rows.Scan(&id, &uid); err != nil {
			return nil, fmt.Errorf("point users: %w", err)
		}
		names[id] = uid.String
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("point users: %w", err)
	}
	for _, u := range all {
		u.UserID = names[u.AmplitudeID]
		out.Users = append(out.Users, *u)
	}
	return out, nil
}
