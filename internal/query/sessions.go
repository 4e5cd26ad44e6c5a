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
)

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
	default:
		return fieldErr("metric", "unknown metric %q (length, average, per_user, time_per_user, total, time_spent)", s.Metric)
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

// Sessions runs a sessions chart for project p. The length metric has
// one series per bin; the others one series.
func (e *Engine) Sessions(ctx context.Context, p Project, s *Sessions, now time.Time) (*Result, error) {
	ws := weekday(s.WeekStart)
	fr, err := newFrame(p, s.Range, s.Interval, ws, now)
	if err != nil {
		return nil, err
	}
	b := fr.b
	c := &compiler{d: e.d, project: p.ID, b: b}
	var bin strings.Builder
	bin.WriteString("CASE")
	for i := len(s.Bins) - 1; i > 0; i-- {
		fmt.Fprintf(&bin, " WHEN len >= %d THEN %d", s.Bins[i], i)
	}
	bin.WriteString(" ELSE 0 END")
	q := "/* query.Sessions */\nWITH " + c.mergesCTE() + ",\n" +
		"s AS (SELECT coalesce(m.into_id, x.amplitude_id) AS uid, x.session_id, min(x.start) AS st, max(x.last_event) AS le " +
		fmt.Sprintf("FROM sessions x LEFT JOIN m ON m.from_id = x.amplitude_id WHERE x.project_id = %d AND x.session_id <> -1 ", p.ID) +
		"GROUP BY coalesce(m.into_id, x.amplitude_id), x.session_id),\n" +
		"v AS (SELECT uid, le - st AS len, " + b.indexExpr(e.d, "st") + " AS bkt FROM s " +
		fmt.Sprintf("WHERE st >= %d AND st < %d AND le - st <= %d)\n", b.fromMs(), b.toMs(), maxSessionMs) +
		"SELECT bkt, " + bin.String() + " AS bin, count(*), sum(len), NULL FROM v GROUP BY GROUPING SETS ((bkt, " + bin.String() + "), (" + bin.String() + "))\n" +
		"UNION ALL SELECT bkt, -1, count(*), sum(len), " + e.d.CountDistinct("uid") + " FROM v GROUP BY GROUPING SETS ((bkt), ())"
	rows, err := e.q.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	defer rows.Close()
	nb := b.n()
	type agg struct{ n, sum, users float64 }
	per := make([]agg, nb)
	var all agg
	bins := make([][]float64, len(s.Bins))
	binAll := make([]float64, len(s.Bins))
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
	res := &Result{XValues: make([]string, nb), Series: []Series{}}
	for i := range res.XValues {
		res.XValues[i] = b.label(i)
	}
	if s.Metric == SessionLength {
		for i, lo := range s.Bins {
			hi := int64(maxSessionMs)
			if i+1 < len(s.Bins) {
				hi = s.Bins[i+1]
			}
			l := BinLabel(lo, hi)
			res.Series = append(res.Series, Series{Label: l, Bucket: l, Values: bins[i], Collapsed: binAll[i]})
		}
		return res, nil
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
		}
		return a.sum / 1000
	}
	sr := Series{Label: s.Metric, Values: make([]float64, nb), Collapsed: val(all)}
	for i := range per {
		sr.Values[i] = val(per[i])
	}
	res.Series = append(res.Series, sr)
	return res, nil
}
