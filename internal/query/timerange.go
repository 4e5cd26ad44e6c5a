package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Interval is the width of a chart's time buckets.
type Interval string

// The intervals of spec §5.0. Day, week, month and quarter follow the
// project's time zone; real-time and hour buckets are aligned to the zone's
// wall clock at the start of the range and then have a fixed width.
const (
	Realtime Interval = "realtime" // 5 minutes
	Hour     Interval = "hour"
	Day      Interval = "day"
	Week     Interval = "week"
	Month    Interval = "month"
	Quarter  Interval = "quarter"
)

// maxBuckets are the interval limits of spec §5.0 (real-time: the
// Dashboard API's two days; a little slack for DST days and partial weeks).
var maxBuckets = map[Interval]int{
	Realtime: 2*288 + 1, Hour: 7*24 + 2, Day: 366, Week: 54, Month: 37, Quarter: 13,
}

func (iv Interval) valid() bool { _, ok := maxBuckets[iv]; return ok }

// width returns the fixed width of real-time and hour buckets.
func (iv Interval) width() time.Duration {
	switch iv {
	case Realtime:
		return 5 * time.Minute
	case Hour:
		return time.Hour
	}
	return 0
}

// Range is a chart's date range. Either Start and End are set (dates
// YYYY-MM-DD, both inclusive, in the project's time zone; or RFC 3339
// times, End exclusive), or Last (the last N intervals of Unit, the
// current one included), or Relative (today, yesterday, this_week,
// last_week, this_month, last_month, this_quarter, last_quarter,
// this_year).
type Range struct {
	Start    string `json:"start,omitempty"`
	End      string `json:"end,omitempty"`
	Last     int    `json:"last,omitempty"`
	Unit     string `json:"unit,omitempty"` // day (default), week, month, hour
	Relative string `json:"relative,omitempty"`
}

// span is a resolved range: [From, To) in the project's zone.
type span struct{ From, To time.Time }

func parseDateOrTime(s string, loc *time.Location, end bool) (time.Time, bool, error) {
	for _, layout := range []string{"2006-01-02", "20060102"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			if end {
				t = t.AddDate(0, 0, 1)
			}
			return t, true, nil
		}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor an RFC 3339 time", s)
	}
	return t.In(loc), false, nil
}

// resolve turns r into a span in loc, relative to now.
func (r Range) resolve(loc *time.Location, now time.Time, weekStart time.Weekday) (span, error) {
	now = now.In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	switch {
	case r.Start != "" || r.End != "":
		if r.Start == "" || r.End == "" {
			return span{}, fieldErr("range", "start and end go together")
		}
		if r.Last != 0 || r.Relative != "" {
			return span{}, fieldErr("range", "give start/end, last or relative, not several")
		}
		from, _, err := parseDateOrTime(r.Start, loc, false)
		if err != nil {
			return span{}, fieldErr("range.start", "%v", err)
		}
		to, _, err := parseDateOrTime(r.End, loc, true)
		if err != nil {
			return span{}, fieldErr("range.end", "%v", err)
		}
		if !to.After(from) {
			return span{}, fieldErr("range.end", "%q is before start %q", r.End, r.Start)
		}
		return span{from, to}, nil
	case r.Last != 0:
		if r.Relative != "" {
			return span{}, fieldErr("range", "give last or relative, not both")
		}
		if r.Last < 0 {
			return span{}, fieldErr("range.last", "must be positive, got %d", r.Last)
		}
		n := r.Last
		switch r.Unit {
		case "", "day":
			return span{today.AddDate(0, 0, 1-n), today.AddDate(0, 0, 1)}, nil
		case "week":
			w := startOfWeek(today, weekStart)
			return span{w.AddDate(0, 0, -7*(n-1)), w.AddDate(0, 0, 7)}, nil
		case "month":
			m := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, loc)
			return span{m.AddDate(0, 1-n, 0), m.AddDate(0, 1, 0)}, nil
		case "hour":
			h := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), 0, 0, 0, loc)
			return span{h.Add(-time.Duration(n-1) * time.Hour), h.Add(time.Hour)}, nil
		}
		return span{}, fieldErr("range.unit", "unknown unit %q (day, week, month, hour)", r.Unit)
	case r.Relative != "":
		m := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, loc)
		q := time.Date(today.Year(), today.Month()-(today.Month()-1)%3, 1, 0, 0, 0, 0, loc)
		w := startOfWeek(today, weekStart)
		switch r.Relative {
		case "today":
			return span{today, today.AddDate(0, 0, 1)}, nil
		case "yesterday":
			return span{today.AddDate(0, 0, -1), today}, nil
		case "this_week":
			return span{w, w.AddDate(0, 0, 7)}, nil
		case "last_week":
			return span{w.AddDate(0, 0, -7), w}, nil
		case "this_month":
			return span{m, m.AddDate(0, 1, 0)}, nil
		case "last_month":
			return span{m.AddDate(0, -1, 0), m}, nil
		case "this_quarter":
			return span{q, q.AddDate(0, 3, 0)}, nil
		case "last_quarter":
			return span{q.AddDate(0, -3, 0), q}, nil
		case "this_year":
			y := time.Date(today.Year(), 1, 1, 0, 0, 0, 0, loc)
			return span{y, y.AddDate(1, 0, 0)}, nil
		}
		return span{}, fieldErr("range.relative", "unknown relative range %q", r.Relative)
	}
	return span{}, fieldErr("range", "missing: give start and end, last, or relative")
}

func startOfWeek(day time.Time, weekStart time.Weekday) time.Time {
	d := (int(day.Weekday()) - int(weekStart) + 7) % 7
	return day.AddDate(0, 0, -d)
}

// buckets are the time buckets of one chart: Starts[i] is the start of
// bucket i and Starts[len-1] the end of the last; events are counted from
// From (which may fall inside bucket 0, e.g. a week) to To.
type buckets struct {
	iv       Interval
	loc      *time.Location
	starts   []time.Time
	from, to time.Time
}

// truncate returns the start of the bucket holding t.
func truncate(t time.Time, iv Interval, weekStart time.Weekday) time.Time {
	loc := t.Location()
	switch iv {
	case Realtime:
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute()-t.Minute()%5, 0, 0, loc)
	case Hour:
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, loc)
	case Day:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	case Week:
		return startOfWeek(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc), weekStart)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	case Quarter:
		return time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, loc)
	}
	panic("BUG: unknown interval " + string(iv))
}

// step returns the start of the bucket k buckets after the one starting at t.
func step(t time.Time, iv Interval, k int) time.Time {
	switch iv {
	case Realtime, Hour:
		return t.Add(time.Duration(k) * iv.width())
	case Day:
		return t.AddDate(0, 0, k)
	case Week:
		return t.AddDate(0, 0, 7*k)
	case Month:
		return t.AddDate(0, k, 0)
	case Quarter:
		return t.AddDate(0, 3*k, 0)
	}
	panic("BUG: unknown interval " + string(iv))
}

// newBuckets returns the buckets of iv over sp, with pre extra buckets
// before it (for rolling windows).
func newBuckets(sp span, iv Interval, weekStart time.Weekday, pre int) (*buckets, error) {
	b := &buckets{iv: iv, loc: sp.From.Location(), from: sp.From, to: sp.To}
	first := truncate(sp.From, iv, weekStart)
	if pre > 0 {
		first = step(first, iv, -pre)
		b.from = first
	}
	for t := first; t.Before(sp.To); t = step(t, iv, 1) {
		b.starts = append(b.starts, t)
		if len(b.starts) > maxBuckets[iv]+pre {
			return nil, fieldErr("range", "too long for interval %s (at most %d buckets)", iv, maxBuckets[iv])
		}
	}
	b.starts = append(b.starts, step(b.starts[len(b.starts)-1], iv, 1))
	return b, nil
}

// n returns the number of buckets.
func (b *buckets) n() int { return len(b.starts) - 1 }

// fromMs and toMs are the counted range in UTC milliseconds.
func (b *buckets) fromMs() int64 { return b.from.UnixMilli() }
func (b *buckets) toMs() int64   { return b.to.UnixMilli() }

// label returns the x value of bucket i: YYYY-MM-DD for day and longer
// buckets, YYYY-MM-DDTHH:MM for shorter ones, in the project's zone.
func (b *buckets) label(i int) string {
	if b.iv == Realtime || b.iv == Hour {
		return b.starts[i].Format("2006-01-02T15:04")
	}
	return b.starts[i].Format("2006-01-02")
}

// offsetExpr returns an SQL expression giving the zone's UTC offset in
// milliseconds at the UTC millisecond time col, as a CASE over the few
// zone transitions in the counted range (a constant when there are none).
func (b *buckets) offsetExpr(col string) string {
	type seg struct{ until, off int64 }
	var segs []seg
	t := b.from.Add(-time.Hour)
	for {
		_, off := t.Zone()
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(b.to) {
			segs = append(segs, seg{0, int64(off) * 1000})
			break
		}
		segs = append(segs, seg{end.UnixMilli(), int64(off) * 1000})
		t = end.In(b.loc)
	}
	if len(segs) == 1 {
		return strconv.FormatInt(segs[0].off, 10)
	}
	var s strings.Builder
	s.WriteString("CASE")
	for _, g := range segs[:len(segs)-1] {
		fmt.Fprintf(&s, " WHEN %s < %d THEN %d", col, g.until, g.off)
	}
	fmt.Fprintf(&s, " ELSE %d END", segs[len(segs)-1].off)
	return s.String()
}

// indexExpr returns an SQL expression giving the bucket index (0-based) of
// the UTC millisecond time col, which must lie in [from, to). Fixed-width
// buckets use integer arithmetic on the wall-clock time; months and
// quarters a CASE over their boundaries.
func (b *buckets) indexExpr(d Dialect, col string) string {
	first := b.starts[0]
	switch b.iv {
	case Realtime, Hour:
		return d.IntDiv(fmt.Sprintf("%s - %d", col, first.UnixMilli()), strconv.FormatInt(b.iv.width().Milliseconds(), 10))
	case Day, Week:
		_, off := first.Zone()
		wall := first.UnixMilli() + int64(off)*1000
		width := int64(86_400_000)
		if b.iv == Week {
			width *= 7
		}
		off0 := b.offsetExpr(col)
		return d.IntDiv(fmt.Sprintf("%s + %s - %d", col, off0, wall), strconv.FormatInt(width, 10))
	}
	if b.n() == 1 {
		return "0"
	}
	var s strings.Builder
	s.WriteString("CASE")
	for i := 1; i < b.n(); i++ {
		fmt.Fprintf(&s, " WHEN %s < %d THEN %d", col, b.starts[i].UnixMilli(), i-1)
	}
	fmt.Fprintf(&s, " ELSE %d END", b.n()-1)
	return s.String()
}

// frame is a chart's time frame: its range resolved in the project's zone
// and the buckets of its interval.
type frame struct {
	now  time.Time // the anchor of relative ranges
	loc  *time.Location
	span span
	b    *buckets
}

// newFrame resolves rng for project p with interval iv and week start ws;
// a zero now means the current time.
func newFrame(p Project, rng Range, iv Interval, ws time.Weekday, now time.Time) (frame, error) {
	if now.IsZero() {
		now = time.Now()
	}
	loc, err := p.location()
	if err != nil {
		return frame{}, err
	}
	sp, err := rng.resolve(loc, now, ws)
	if err != nil {
		return frame{}, err
	}
	b, err := newBuckets(sp, iv, ws, 0)
	if err != nil {
		return frame{}, err
	}
	return frame{now: now, loc: loc, span: sp, b: b}, nil
}
