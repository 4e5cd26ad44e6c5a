package query

import (
	"fmt"
	"strconv"
	"strings"
)

// Performed is a "who performed" segment condition (spec §5.0, §6.1 `s`
// with type "event"): the user did EventType (with Filters, user
// properties as of each event) a number of times that compares by Op
// with Count, within Window. Users are canonical Amplitude IDs (merged
// anonymous ids count as their user); a condition that zero satisfies
// (< N, <= N, = 0, != N with N > 0) keeps users who never did the event.
type Performed struct {
	// EventType is a raw event name ("ce:<name>" is the same), _active
	// (any active event) or _all (any event).
	EventType string   `json:"event_type"`
	Filters   []Filter `json:"filters,omitempty"`
	// Op is >=, >, =, <, <= or != (default >=, and then Count defaults
	// to 1: "did the event").
	Op    string `json:"op,omitempty"`
	Count int    `json:"count"`
	// Window is where the events are counted (default all_time):
	// each_interval (in the interval of the data point, e.g. the same day),
	// current_interval (the range's last interval), all_time (any time up
	// to the range's end) or last_days (the Days days up to the range's
	// end).
	Window string `json:"window,omitempty"`
	Days   int    `json:"days,omitempty"`
}

// Performed windows.
const (
	WindowEachInterval    = "each_interval"
	WindowCurrentInterval = "current_interval"
	WindowAllTime         = "all_time"
	WindowLastDays        = "last_days"
)

// Limits of who-performed conditions: conditions per segment, and the
// longest last_days window.
const (
	maxPerformed     = 10
	maxPerformedDays = 3650
)

func (p *Performed) validate() error {
	p.EventType = strings.TrimPrefix(p.EventType, "ce:")
	switch p.EventType {
	case "":
		return fieldErr("event_type", "missing")
	case EventNew:
		return fieldErr("event_type", "%q is not an event users perform (use the segment's users \"new\")", EventNew)
	}
	for i, f := range p.Filters {
		if err := f.validate(); err != nil {
			return prefixed(fmt.Sprintf("filters[%d]", i), err)
		}
	}
	switch p.Op {
	case "":
		p.Op = ">="
		if p.Count == 0 {
			p.Count = 1
		}
	case ">=", ">", "=", "<", "<=", "!=":
	default:
		return fieldErr("op", "unknown count operator %q (>=, >, =, <, <=, !=)", p.Op)
	}
	if p.Count < 0 {
		return fieldErr("count", "must not be negative, got %d", p.Count)
	}
	switch p.Window {
	case "":
		p.Window = WindowAllTime
	case WindowEachInterval, WindowCurrentInterval, WindowAllTime, WindowLastDays:
	default:
		return fieldErr("window", "unknown window %q (each_interval, current_interval, all_time, last_days)", p.Window)
	}
	if p.Window == WindowLastDays {
		if p.Days < 1 || p.Days > maxPerformedDays {
			return fieldErr("days", "must be 1 to %d for window last_days, got %d", maxPerformedDays, p.Days)
		}
	} else if p.Days != 0 {
		return fieldErr("days", "only with window last_days")
	}
	return nil
}

// holds reports whether n events satisfy the count condition.
func (p *Performed) holds(n int) bool {
	switch p.Op {
	case ">=":
		return n >= p.Count
	case ">":
		return n > p.Count
	case "=":
		return n == p.Count
	case "<":
		return n < p.Count
	case "<=":
		return n <= p.Count
	}
	return n != p.Count
}

// sqlOp is Op in SQL.
func (p *Performed) sqlOp() string {
	if p.Op == "!=" {
		return "<>"
	}
	return p.Op
}

// performed returns the SQL conditions of seg's who-performed conditions
// on an events row: id is its raw Amplitude ID and t its time (UTC ms),
// read in c.b's buckets (each_interval, current_interval) and up to
// c.b's end. The conditions need no merges join around them: each
// subquery maps raw ids to canonical users itself.
func (c *compiler) performed(seg *Segment, id, t string) []string {
	var out []string
	for i := range seg.Performed {
		out = append(out, c.performedCond(&seg.Performed[i], id, t))
	}
	return out
}

// performedCond is one condition. With Q the canonical users (and, per
// interval, their buckets) whose count of the event in the window
// decides the condition, the row's raw id (and bucket) is tested
// against the raw ids of Q's users (the users table holds every raw id;
// a merged one maps to its canonical user). When zero events satisfy
// the condition, Q holds the users whose count fails it and the test is
// NOT IN, so users who never did the event are kept.
func (c *compiler) performedCond(p *Performed, id, t string) string {
	b := c.b
	lo, hi := int64(-1), b.toMs()
	switch p.Window {
	case WindowEachInterval:
		lo = b.fromMs()
	case WindowCurrentInterval:
		lo = max(b.starts[b.n()-1].UnixMilli(), b.fromMs())
	case WindowLastDays:
		lo = b.to.AddDate(0, 0, -p.Days).UnixMilli()
	}
	zero := p.holds(0)
	having := fmt.Sprintf("count(*) %s %d", p.sqlOp(), p.Count)
	in := " IN "
	if zero {
		having = "NOT (" + having + ")"
		in = " NOT IN "
	}
	merges := fmt.Sprintf("(SELECT from_id, into_id FROM merges WHERE project_id = %d AND NOT undone)", c.project)
	where := []string{fmt.Sprintf("ev.project_id = %d", c.project)}
	if lo >= 0 {
		where = append(where, fmt.Sprintf("ev.event_time >= %d", lo))
	}
	where = append(where, fmt.Sprintf("ev.event_time < %d", hi), c.typeCond(p.EventType))
	where = append(where, c.filters(p.Filters)...)
	pcanon := "coalesce(pm.into_id, ev.amplitude_id)"
	from := " FROM events ev LEFT JOIN " + merges + " AS pm ON pm.from_id = ev.amplitude_id WHERE " + and(where)
	ucanon := "coalesce(pm.into_id, u.amplitude_id)"
	users := " FROM users u LEFT JOIN " + merges + " AS pm ON pm.from_id = u.amplitude_id WHERE u.project_id = " + strconv.FormatInt(c.project, 10)
	if p.Window != WindowEachInterval {
		q := "SELECT " + pcanon + from + " GROUP BY " + pcanon + " HAVING " + having
		return id + in + "(SELECT u.amplitude_id" + users + " AND " + ucanon + " IN (" + q + "))"
	}
	bkt := b.indexExpr(c.d, "ev.event_time")
	q := "SELECT " + pcanon + " AS uid, " + bkt + " AS bkt" + from + " GROUP BY " + pcanon + ", " + bkt + " HAVING " + having
	ids := "SELECT u.amplitude_id AS id, " + ucanon + " AS uid" + users
	return fmt.Sprintf("(%[1]s >= %[2]d AND %[1]s < %[3]d AND (%[4]s, %[5]s)%[6]s(SELECT x.id, q.bkt FROM (%[7]s) x JOIN (%[8]s) q ON q.uid = x.uid))",
		t, b.fromMs(), hi, id, b.indexExpr(c.d, t), in, ids, q)
}
