package query

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sessions analysis type and version (spec §4, §5.6).
const (
	TypeSessions        = "sessions"
	SessionsVersion int = 1
)

// Session measures (spec §5.6).
const (
	SessionLength      = "length"        // length distribution: sessions per length bin
	SessionAverage     = "average"       // Σ lengths ÷ sessions, in seconds
	SessionPerUser     = "per_user"      // sessions ÷ users with a session
	SessionTimePerUser = "time_per_user" // Σ lengths ÷ users with a session, in seconds
	SessionTotal       = "total"         // number of sessions
	SessionTimeSpent   = "time_spent"    // Σ lengths, in seconds
	// Events within sessions: of Event, per session (Σ ÷ sessions), in
	// total, and sessions by how many they hold (0, 1, … 9, 10+).
	SessionEventAverage      = "event_average"
	SessionEventTotal        = "event_total"
	SessionEventDistribution = "event_distribution"
)

// sessionEventBins is the number of bins of event_distribution: 0 to 9
// events, then 10 or more.
const sessionEventBins = 11

// Session filter types (spec §5.6).
const (
	SessionFilterDuration = "duration" // length in [min_ms, max_ms)
	SessionFilterContains = "contains" // the session holds op count events of event
	SessionFilterFirst    = "first"    // the session's first event satisfies filter
	SessionFilterLast     = "last"     // the session's last event satisfies filter
)

// SessionFilter keeps the sessions that satisfy it (spec §5.6: duration,
// contains an event, first or last property value).
type SessionFilter struct {
	Type string `json:"type"`
	// MinMs and MaxMs bound the length (duration); 0 leaves a side open.
	MinMs int64 `json:"min_ms,omitempty"`
	MaxMs int64 `json:"max_ms,omitempty"`
	// Event is the counted event with its filters, op and count
	// (contains; op >= and count 1 by default). Its window is not used.
	Event *Performed `json:"event,omitempty"`
	// Filter is the property condition on the first or last event of
	// the session (first, last).
	Filter *Filter `json:"filter,omitempty"`
}

func (f *SessionFilter) validate() error {
	switch f.Type {
	case SessionFilterDuration:
		if f.MinMs < 0 || f.MaxMs < 0 || (f.MaxMs > 0 && f.MaxMs <= f.MinMs) {
			return fieldErr("max_ms", "want 0 <= min_ms < max_ms (0: no bound), got %d and %d", f.MinMs, f.MaxMs)
		}
		if f.MinMs == 0 && f.MaxMs == 0 {
			return fieldErr("min_ms", "a duration filter needs min_ms or max_ms")
		}
	case SessionFilterContains:
		if f.Event == nil {
			return fieldErr("event", "missing")
		}
		if err := f.Event.validate(); err != nil {
			return prefixed("event", err)
		}
		if f.Event.Window != WindowAllTime {
			return fieldErr("event.window", "not used: the events are counted in the session")
		}
	case SessionFilterFirst, SessionFilterLast:
		if f.Filter == nil {
			return fieldErr("filter", "missing")
		}
		if err := f.Filter.validate(); err != nil {
			return prefixed("filter", err)
		}
	default:
		return fieldErr("type", "unknown session filter %q (duration, contains, first, last)", f.Type)
	}
	return nil
}

// maxSessionFilters bounds a chart's session filters.
const maxSessionFilters = 10

// maxSessionMs is the longest session counted (spec §4: longer ones are
// excluded).
const maxSessionMs = 86_400_000

// DefaultSessionBins are the lower bounds (ms) of the Dashboard API's
// default length bins; the last ends at a day.
var DefaultSessionBins = []int64{0, 3000, 10_000, 30_000, 60_000, 180_000, 600_000, 1_800_000, 3_600_000}

// Sessions is a User Sessions chart, version 1. A session is valid when
// its session_id is not -1 and it has an active event; its length is
// the time from its first to its last active event; it belongs to the
// interval of its first event, in the project's zone; sessions longer
// than a day are left out.
type Sessions struct {
	Type    string `json:"type"`
	Version int    `json:"version"`
	// Metric is length, average, per_user, time_per_user, total or time_spent.
	Metric   string   `json:"metric"`
	Range    Range    `json:"range"`
	Interval Interval `json:"interval,omitempty"` // day (default), week, month
	// Bins are the lower bounds (ms) of the length bins, increasing; the
	// last ends at a day. Default DefaultSessionBins.
	Bins      []int64 `json:"bins,omitempty"`
	WeekStart string  `json:"week_start,omitempty"`
	// Event is what the event_* metrics count (default any active event).
	Event *RetentionEvent `json:"event,omitempty"`
	// Segments split the sessions by their users: a session is in a
	// segment when one of its active events satisfies the segment's
	// filters and who-performed conditions (users "new": its user is new
	// in the range).
	Segments []Segment `json:"segments,omitempty"`
	// Filters keep the sessions that satisfy every one of them.
	Filters []SessionFilter `json:"filters,omitempty"`
}

// ParseSessions decodes and validates a sessions definition.
func ParseSessions(data []byte) (*Sessions, error) {
	var s Sessions
	if err := decodeStrict(data, TypeSessions, &s); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the definition and fills in defaults.
func (s *Sessions) Validate() error {
	if s.Type == "" {
		s.Type = TypeSessions
	}
	if s.Type != TypeSessions {
		return fieldErr("type", "want %q, got %q", TypeSessions, s.Type)
	}
	if s.Version != SessionsVersion {
		return fieldErr("version", "unsupported version %d (this build knows %d)", s.Version, SessionsVersion)
	}
	switch s.Metric {
	case "":
		s.Metric = SessionAverage
	case SessionLength, SessionAverage, SessionPerUser, SessionTimePerUser, SessionTotal, SessionTimeSpent:
		if s.Event != nil {
			return fieldErr("event", "only with the event_average, event_total and event_distribution metrics")
		}
	case SessionEventAverage, SessionEventTotal, SessionEventDistribution:
		if s.Event == nil {
			s.Event = &RetentionEvent{EventType: EventActive}
		}
		if err := validateEvent(&s.Event.EventType, s.Event.Filters); err != nil {
			return prefixed("event", err)
		}
	default:
		return fieldErr("metric", "unknown metric %q (length, average, per_user, time_per_user, total, time_spent, event_average, event_total, event_distribution)", s.Metric)
	}
	if err := validateSegments(s.Segments); err != nil {
		return err
	}
	if len(s.Filters) > maxSessionFilters {
		return fieldErr("filters", "at most %d session filters, got %d", maxSessionFilters, len(s.Filters))
	}
	for i := range s.Filters {
		if err := s.Filters[i].validate(); err != nil {
			return prefixed(fmt.Sprintf("filters[%d]", i), err)
		}
	}
	if s.Interval == "" {
		s.Interval = Day
	}
	switch s.Interval {
	case Day, Week, Month:
	default:
		return fieldErr("interval", "unknown interval %q (day, week or month)", s.Interval)
	}
	if len(s.Bins) == 0 {
		s.Bins = DefaultSessionBins
	}
	if len(s.Bins) > 100 {
		return fieldErr("bins", "at most 100 bins, got %d", len(s.Bins))
	}
	for i, b := range s.Bins {
		if b < 0 || b >= maxSessionMs || (i > 0 && b <= s.Bins[i-1]) {
			return fieldErr(fmt.Sprintf("bins[%d]", i), "bounds must be increasing, from 0 to less than a day (ms)")
		}
	}
	switch s.WeekStart {
	case "", "sunday", "monday":
	default:
		return fieldErr("week_start", "unknown week start %q (sunday or monday)", s.WeekStart)
	}
	return nil
}

// BinLabel names a length bin the Dashboard API's way ("0s-3s").
func BinLabel(lo, hi int64) string {
	f := func(ms int64) string {
		if ms%1000 == 0 {
			return strconv.FormatInt(ms/1000, 10) + "s"
		}
		return strconv.FormatInt(ms, 10) + "ms"
	}
	return f(lo) + "-" + f(hi)
}

// Sessions runs a sessions chart for project p. The length and
// event_distribution metrics have one series per bin, the others one
// series; each per segment when the chart has segments.
func (e *Engine) Sessions(ctx context.Context, p Project, s *Sessions, now time.Time) (*Result, error) {
	ws := weekday(s.WeekStart)
	fr, err := newFrame(p, s.Range, s.Interval, ws, now)
	if err != nil {
		return nil, err
	}
	b := fr.b
	nb := b.n()
	res := &Result{XValues: make([]string, nb), Series: []Series{}}
	for i := range res.XValues {
		res.XValues[i] = b.label(i)
	}
	segs := s.Segments
	if len(segs) == 0 {
		segs = []Segment{{Users: "any"}}
	}
	for si := range segs {
		series, err := e.sessionsSegment(ctx, p, s, &segs[si], b)
		if err != nil {
			return nil, err
		}
		for _, sr := range series {
			if len(s.Segments) > 0 {
				name := segs[si].Name
				if name == "" {
					name = fmt.Sprintf("Segment %d", si+1)
				}
				sr.Label = name + " · " + sr.Label
				sr.Segment = si
			}
			res.Series = append(res.Series, sr)
		}
	}
	return res, nil
}

// eventMetric reports whether m counts events within sessions.
func eventMetric(m string) bool {
	return m == SessionEventAverage || m == SessionEventTotal || m == SessionEventDistribution
}

// sessionsSQL builds the statement of s for segment seg. Without event
// metrics, filters or segment conditions it reads the sessions table
// alone; otherwise one pass over the events of the range's sessions adds,
// per session, the counts and first/last-event tests the chart needs.
func (e *Engine) sessionsSQL(p Project, s *Sessions, seg *Segment, b *buckets) string {
	c := &compiler{d: e.d, project: p.ID, b: b}
	// The sessions (merged users combined) and what each filter needs.
	ctes := []string{c.mergesCTE(),
		"s AS (SELECT coalesce(m.into_id, x.amplitude_id) AS uid, x.session_id AS session_id, min(x.start) AS st, max(x.last_event) AS le " +
			fmt.Sprintf("FROM sessions x LEFT JOIN m ON m.from_id = x.amplitude_id WHERE x.project_id = %d AND x.session_id <> -1 ", p.ID) +
			"GROUP BY coalesce(m.into_id, x.amplitude_id), x.session_id)"}
	where := []string{fmt.Sprintf("s.st >= %d AND s.st < %d AND s.le - s.st <= %d", b.fromMs(), b.toMs(), maxSessionMs)}
	// A session is its active events (storage.Session): its first and
	// last events and a segment's conditions are read on those.
	active := c.typeCond(EventActive)
	// Counts are count(CASE WHEN .. THEN 1 END): with sum(CASE WHEN ..
	// THEN 1 ELSE 0 END) DuckDB returned zeros for the sums once a
	// filter or CASE read them behind the join below (seen with the
	// sessions_filters cases).
	var aggs []string
	ne := "0"
	if eventMetric(s.Metric) {
		aggs = append(aggs, "count(CASE WHEN "+c.stepCond(s.Event.EventType, s.Event.Filters, nil)+" THEN 1 END) AS ne")
		ne = "sx.ne"
	}
	for i, f := range s.Filters {
		switch f.Type {
		case SessionFilterDuration:
			if f.MinMs > 0 {
				where = append(where, fmt.Sprintf("s.le - s.st >= %d", f.MinMs))
			}
			if f.MaxMs > 0 {
				where = append(where, fmt.Sprintf("s.le - s.st < %d", f.MaxMs))
			}
		case SessionFilterContains:
			aggs = append(aggs, fmt.Sprintf("count(CASE WHEN %s THEN 1 END) AS c%d", c.stepCond(f.Event.EventType, f.Event.Filters, nil), i))
			where = append(where, fmt.Sprintf("sx.c%d %s %d", i, f.Event.sqlOp(), f.Event.Count))
		case SessionFilterFirst, SessionFilterLast:
			// The first (last) active event satisfies the filter when
			// the earliest (latest) time of the active events satisfying
			// it is the session's earliest (latest) active event time.
			fn := map[string]string{SessionFilterFirst: "min", SessionFilterLast: "max"}[f.Type]
			aggs = append(aggs, fmt.Sprintf("%[1]s(CASE WHEN %[4]s THEN ev.event_time END) AS t%[2]d, %[1]s(CASE WHEN %[4]s AND %[3]s THEN ev.event_time END) AS f%[2]d",
				fn, i, f.Filter.sql(c.d), active))
			where = append(where, fmt.Sprintf("sx.f%[1]d = sx.t%[1]d", i))
		}
	}
	if segConds := append(c.filters(seg.Filters), c.performed(seg, "ev.amplitude_id", "ev.event_time")...); len(segConds) > 0 {
		aggs = append(aggs, "max(CASE WHEN "+and(append([]string{active}, segConds...))+" THEN 1 ELSE 0 END) AS sg")
		where = append(where, "sx.sg = 1")
	}
	if seg.Users == "new" {
		ctes = append(ctes, fmt.Sprintf("fs AS (SELECT coalesce(m.into_id, u.amplitude_id) AS uid "+
			"FROM users u LEFT JOIN m ON m.from_id = u.amplitude_id WHERE u.project_id = %d "+
			"GROUP BY coalesce(m.into_id, u.amplitude_id) HAVING min(u.first_seen) >= %d AND min(u.first_seen) < %d)", p.ID, b.fromMs(), b.toMs()))
		where = append(where, "s.uid IN (SELECT uid FROM fs)")
	}
	from := "s"
	if len(aggs) > 0 {
		// A session's events lie within a day of its start.
		ctes = append(ctes, "sx AS (SELECT "+canon+" AS uid, ev.session_id AS sid, "+strings.Join(aggs, ", ")+
			" FROM events ev LEFT JOIN m ON m.from_id = ev.amplitude_id WHERE "+
			fmt.Sprintf("ev.project_id = %d AND ev.session_id <> -1 AND ev.event_time >= %d AND ev.event_time < %d", p.ID, b.fromMs(), b.toMs()+maxSessionMs+1)+
			" GROUP BY "+canon+", ev.session_id)")
		from = "s JOIN sx ON sx.uid = s.uid AND sx.sid = s.session_id"
	}
	ctes = append(ctes, "v AS (SELECT s.uid AS uid, s.le - s.st AS len, "+ne+" AS ne, "+b.indexExpr(e.d, "s.st")+" AS bkt FROM "+from+
		" WHERE "+and(where)+")")
	// Bins: of the length (length) or of the event count (event_distribution).
	var bin strings.Builder
	bin.WriteString("CASE")
	if s.Metric == SessionEventDistribution {
		for i := sessionEventBins - 1; i > 0; i-- {
			fmt.Fprintf(&bin, " WHEN ne >= %d THEN %d", i, i)
		}
	} else {
		for i := len(s.Bins) - 1; i > 0; i-- {
			fmt.Fprintf(&bin, " WHEN len >= %d THEN %d", s.Bins[i], i)
		}
	}
	bin.WriteString(" ELSE 0 END")
	sum := "len"
	if eventMetric(s.Metric) {
		sum = "ne"
	}
	return "/* query.Sessions */\nWITH " + strings.Join(ctes, ",\n") + "\n" +
		"SELECT bkt, " + bin.String() + " AS bin, count(*), sum(" + sum + "), NULL FROM v GROUP BY GROUPING SETS ((bkt, " + bin.String() + "), (" + bin.String() + "))\n" +
		"UNION ALL SELECT bkt, -1, count(*), sum(" + sum + "), " + e.d.CountDistinct("uid") + " FROM v GROUP BY GROUPING SETS ((bkt), ())"
}

// sessionsSegment runs s for one segment and returns its series.
func (e *Engine) sessionsSegment(ctx context.Context, p Project, s *Sessions, seg *Segment, b *buckets) ([]Series, error) {
	rows, err := e.q.QueryContext(ctx, e.sessionsSQL(p, s, seg, b))
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	defer rows.Close()
	nb := b.n()
	nbins := len(s.Bins)
	if s.Metric == SessionEventDistribution {
		nbins = sessionEventBins
	}
	type agg struct{ n, sum, users float64 }
	per := make([]agg, nb)
	var all agg
	bins := make([][]float64, nbins)
	binAll := make([]float64, nbins)
	for i := range bins {
		bins[i] = make([]float64, nb)
	}
	for rows.Next() {
		var bkt sql.NullInt64
		var bi int64
		var n, sum, users sql.NullFloat64
		if err := rows.Scan(&bkt, &bi, &n, &sum, &users); err != nil {
			return nil, fmt.Errorf("sessions: scan: %w", err)
		}
		if bi >= 0 {
			if bkt.Valid {
				bins[bi][bkt.Int64] = n.Float64
			} else {
				binAll[bi] = n.Float64
			}
			continue
		}
		a := agg{n.Float64, sum.Float64, users.Float64}
		if bkt.Valid {
			per[bkt.Int64] = a
		} else {
			all = a
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	var out []Series
	switch s.Metric {
	case SessionLength:
		for i, lo := range s.Bins {
			hi := int64(maxSessionMs)
			if i+1 < len(s.Bins) {
				hi = s.Bins[i+1]
			}
			l := BinLabel(lo, hi)
			out = append(out, Series{Label: l, Bucket: l, Values: bins[i], Collapsed: binAll[i]})
		}
		return out, nil
	case SessionEventDistribution:
		for i := range bins {
			l := strconv.Itoa(i)
			if i == sessionEventBins-1 {
				l += "+"
			}
			out = append(out, Series{Label: l, Bucket: l, Values: bins[i], Collapsed: binAll[i]})
		}
		return out, nil
	}
	val := func(a agg) float64 {
		switch s.Metric {
		case SessionAverage:
			return div(a.sum, a.n) / 1000
		case SessionPerUser:
			return div(a.n, a.users)
		case SessionTimePerUser:
			return div(a.sum, a.users) / 1000
		case SessionTotal:
			return a.n
		case SessionEventAverage:
			return div(a.sum, a.n)
		case SessionEventTotal:
			return a.sum
		}
		return a.sum / 1000
	}
	sr := Series{Label: s.Metric, Values: make([]float64, nb), Collapsed: val(all)}
	for i := range per {
		sr.Values[i] = val(per[i])
	}
	return append(out, sr), nil
}
