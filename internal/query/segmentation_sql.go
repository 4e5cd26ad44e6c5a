package query

import (
	"fmt"
	"strconv"
	"strings"
)

// compiler writes the SQL of one chart over one set of buckets.
type compiler struct {
	d       Dialect
	project int64
	b       *buckets
}

// canon is the canonical Amplitude ID of the events row ev joined with
// the merges CTE m (spec §3: merged anonymous ids count as their user).
const canon = "coalesce(m.into_id, ev.amplitude_id)"

func (c *compiler) mergesCTE() string {
	return fmt.Sprintf("m AS (SELECT from_id, into_id FROM merges WHERE project_id = %d AND NOT undone)", c.project)
}

func (c *compiler) timeWhere() string {
	return fmt.Sprintf("ev.project_id = %d AND ev.event_time >= %d AND ev.event_time < %d", c.project, c.b.fromMs(), c.b.toMs())
}

func (c *compiler) typeCond(eventType string) string {
	switch eventType {
	case EventAll, EventNew:
		return ""
	case EventActive:
		return "ev.event_type NOT IN (" + c.list(inactiveTypes) + ")"
	}
	return "ev.event_type = " + c.d.String(eventType)
}

func (c *compiler) list(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = c.d.String(s)
	}
	return strings.Join(q, ", ")
}

func (c *compiler) filters(fs []Filter) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.sql(c.d))
	}
	return out
}

func and(conds []string) string {
	var keep []string
	for _, s := range conds {
		if s != "" {
			keep = append(keep, s)
		}
	}
	if len(keep) == 0 {
		return "TRUE"
	}
	return strings.Join(keep, " AND ")
}

// source returns the WITH clause defining s(uid, bkt, g0.., v): the
// qualifying events of ev for segment seg, one row per event. value, when
// not empty, is the numeric expression read into v.
//
// Without needUID (no uniques, no new or active users), the user id and
// the merges join are left out.
func (c *compiler) source(ev *EventSpec, seg *Segment, groups []PropRef, value string, needUID bool) string {
	return c.sourceCols(ev, seg, groups, value, needUID, nil, nil)
}

// sourceCols is source with extra columns (expressions over ev, each with
// its AS name) in e and s, and extra conditions on the events ev.
func (c *compiler) sourceCols(ev *EventSpec, seg *Segment, groups []PropRef, value string, needUID bool, extra, extraWhere []string) string {
	needUID = needUID || ev.EventType == EventNew || seg.Users != "any"
	cols := []string{c.b.indexExpr(c.d, "ev.event_time") + " AS bkt"}
	from := "events ev"
	if needUID {
		cols = append([]string{canon + " AS uid"}, cols...)
		from = "events ev LEFT JOIN m ON m.from_id = ev.amplitude_id"
	}
	for i, g := range groups {
		cols = append(cols, fmt.Sprintf("%s AS g%d", g.text(c.d), i))
	}
	if value != "" {
		cols = append(cols, value+" AS v")
	}
	cols = append(cols, extra...)
	where := []string{c.timeWhere(), c.typeCond(ev.EventType)}
	where = append(where, c.filters(ev.Filters)...)
	where = append(where, c.filters(seg.Filters)...)
	where = append(where, c.performed(seg, "ev.amplitude_id", "ev.event_time")...)
	where = append(where, extraWhere...)
	ctes := []string{
		c.mergesCTE(),
		"e AS (SELECT " + strings.Join(cols, ", ") + " FROM " + from + " WHERE " + and(where) + ")",
	}
	joins := ""
	if ev.EventType == EventNew || seg.Users == "new" {
		ctes = append(ctes, c.newUsersCTE("nu"))
		joins += " JOIN nu ON nu.uid = e.uid AND nu.bkt = e.bkt"
	}
	if seg.Users == "active" && ev.EventType != EventActive && ev.EventType != EventNew {
		aw := []string{c.timeWhere(), c.typeCond(EventActive)}
		aw = append(aw, c.filters(seg.Filters)...)
		aw = append(aw, c.performed(seg, "ev.amplitude_id", "ev.event_time")...)
		ctes = append(ctes, "au AS (SELECT DISTINCT "+canon+" AS uid, "+c.b.indexExpr(c.d, "ev.event_time")+
			" AS bkt FROM events ev LEFT JOIN m ON m.from_id = ev.amplitude_id WHERE "+and(aw)+")")
		joins += " JOIN au ON au.uid = e.uid AND au.bkt = e.bkt"
	}
	if joins == "" {
		ctes = append(ctes, "s AS (SELECT * FROM e)")
	} else {
		ctes = append(ctes, "s AS (SELECT e.* FROM e"+joins+")")
	}
	return "WITH " + strings.Join(ctes, ",\n")
}

// newUsersCTE defines name(uid, bkt): users whose first event (over all
// their merged ids) falls in the range, with its bucket. A first_seen of 0
// (an id that only ever had /identify calls) is no event.
func (c *compiler) newUsersCTE(name string) string {
	return fmt.Sprintf("fs AS (SELECT coalesce(m.into_id, u.amplitude_id) AS uid, min(CASE WHEN u.first_seen > 0 THEN u.first_seen END) AS t "+
		"FROM users u LEFT JOIN m ON m.from_id = u.amplitude_id WHERE u.project_id = %d "+
		"GROUP BY coalesce(m.into_id, u.amplitude_id)),\n"+
		"%s AS (SELECT uid, %s AS bkt FROM fs WHERE t >= %d AND t < %d)",
		c.project, name, c.b.indexExpr(c.d, "t"), c.b.fromMs(), c.b.toMs())
}

func groupCols(n int) []string {
	g := make([]string, n)
	for i := range g {
		g[i] = "g" + strconv.Itoa(i)
	}
	return g
}

func withPrefix(first string, rest []string) []string {
	return append([]string{first}, rest...)
}

// aggSQL is the main aggregate: per bucket and group, and per group over
// the whole range (bkt NULL), the totals and, when asked, the uniques
// and the property's sum, count, min, max and median.
//
// Uniques are counted in two phases — distinct (bucket, group, user)
// first, then per bucket and over the range — which on DuckDB is about
// 1.4× faster than count(DISTINCT) under GROUPING SETS (docs/query.md).
// Without uniques the user id is not read at all.
func (c *compiler) aggSQL(src string, ngroups int, uniques, value, median bool) string {
	g := groupCols(ngroups)
	gl := strings.Join(g, ", ")
	if uniques && !median {
		inner := append(append(withPrefix("bkt", g), "uid"), "count(*) AS n")
		outer := []string{"count(*) AS uniques", "CAST(sum(n) AS DOUBLE) AS totals"}
		all := []string{c.d.CountDistinct("uid"), "CAST(sum(n) AS DOUBLE)"}
		if value {
			inner = append(inner, "sum(v) AS vs", "count(v) AS vc", "min(v) AS vmin", "max(v) AS vmax")
			agg := []string{"sum(vs)", "CAST(sum(vc) AS DOUBLE)", "min(vmin)", "max(vmax)"}
			outer = append(outer, agg...)
			all = append(all, agg...)
		}
		groupAll := ""
		if ngroups > 0 {
			groupAll = " GROUP BY " + gl
		}
		return "/* query.Segmentation */\n" + src +
			",\nd AS (SELECT " + strings.Join(inner, ", ") + " FROM s GROUP BY " + strings.Join(append(withPrefix("bkt", g), "uid"), ", ") + ")\n" +
			"SELECT " + strings.Join(append(withPrefix("bkt", g), outer...), ", ") + " FROM d GROUP BY " + strings.Join(withPrefix("bkt", g), ", ") +
			"\nUNION ALL\nSELECT " + strings.Join(append(withPrefix("CAST(NULL AS BIGINT)", g), all...), ", ") + " FROM d" + groupAll
	}
	sel := withPrefix("bkt", g)
	if uniques {
		sel = append(sel, c.d.CountDistinct("uid")+" AS uniques")
	} else {
		sel = append(sel, "0 AS uniques")
	}
	sel = append(sel, "count(*) AS totals")
	if value {
		sel = append(sel, "sum(v)", "count(v)", "min(v)", "max(v)")
		if median {
			sel = append(sel, c.d.Median("v"))
		}
	}
	return "/* query.Segmentation */\n" + src + "\nSELECT " + strings.Join(sel, ", ") +
		" FROM s GROUP BY GROUPING SETS ((" + strings.Join(withPrefix("bkt", g), ", ") + "), (" + gl + "))"
}

// windowSQL counts, per bucket and group, the distinct users with an
// event in the last n buckets up to it.
func (c *compiler) windowSQL(src string, ngroups, n int) string {
	g := groupCols(ngroups)
	dg := make([]string, len(g))
	for i, x := range g {
		dg[i] = "d." + x
	}
	sel := append(withPrefix("d.bkt + k.k AS b", dg), c.d.CountDistinct("d.uid"))
	return "/* query.Segmentation.window */\n" + src +
		",\nd AS (SELECT DISTINCT " + strings.Join(append([]string{"uid", "bkt"}, g...), ", ") + " FROM s)\n" +
		"SELECT " + strings.Join(sel, ", ") + " FROM d CROSS JOIN " + c.d.Series(n, "k") + " k" +
		fmt.Sprintf(" WHERE d.bkt + k.k < %d", c.b.n()) +
		" GROUP BY " + strings.Join(withPrefix("d.bkt + k.k", dg), ", ")
}

// firstSQL counts, per group, users by the first bucket they appear in
// (for cumulative uniques).
func (c *compiler) firstSQL(src string, ngroups int) string {
	g := groupCols(ngroups)
	return "/* query.Segmentation.cumulative */\n" + src +
		",\nf AS (SELECT " + strings.Join(append(g, "uid", "min(bkt) AS b"), ", ") + " FROM s GROUP BY " + strings.Join(append(g, "uid"), ", ") + ")\n" +
		"SELECT " + strings.Join(append(withPrefix("b", g), "count(*)"), ", ") + " FROM f GROUP BY " + strings.Join(withPrefix("b", g), ", ")
}

// frequencySQL counts users per bucket and group by how many events they
// did (bucketed by the lower bounds), and the same over the whole range
// (bkt NULL).
func (c *compiler) frequencySQL(src string, ngroups int, bounds []int) string {
	g := groupCols(ngroups)
	var fb strings.Builder
	fb.WriteString("CASE")
	for i := len(bounds) - 1; i > 0; i-- {
		fmt.Fprintf(&fb, " WHEN n >= %d THEN %d", bounds[i], i)
	}
	fb.WriteString(" ELSE 0 END")
	per := func(name string, keys []string) string {
		return name + " AS (SELECT " + strings.Join(append(keys, "count(*) AS n"), ", ") + " FROM s GROUP BY " + strings.Join(keys, ", ") + ")"
	}
	return "/* query.Segmentation.frequency */\n" + src + ",\n" +
		per("per", append(withPrefix("bkt", g), "uid")) + ",\n" +
		per("pall", append(append([]string{}, g...), "uid")) + "\n" +
		"SELECT " + strings.Join(append(withPrefix("bkt", g), fb.String()+" AS f", "count(*)"), ", ") +
		" FROM per GROUP BY " + strings.Join(append(withPrefix("bkt", g), "f"), ", ") +
		"\nUNION ALL\nSELECT " + strings.Join(append(withPrefix("NULL", g), fb.String()+" AS f", "count(*)"), ", ") +
		" FROM pall GROUP BY " + strings.Join(append(append([]string{}, g...), "f"), ", ")
}

// rangeSQL returns the minimum and maximum of v.
func (c *compiler) rangeSQL(src string) string {
	return "/* query.Segmentation.range */\n" + src + "\nSELECT min(v), max(v) FROM s"
}

// distributionSQL counts events per bucket, group and value bin (lower
// bounds, min inclusive, the last open-ended), and over the whole range.
func (c *compiler) distributionSQL(src string, ngroups int, bounds []float64) string {
	g := groupCols(ngroups)
	var fb strings.Builder
	fb.WriteString("CASE")
	for i := len(bounds) - 1; i > 0; i-- {
		fmt.Fprintf(&fb, " WHEN v >= %s THEN %d", strconv.FormatFloat(bounds[i], 'g', -1, 64), i)
	}
	fb.WriteString(" ELSE 0 END")
	return "/* query.Segmentation.distribution */\n" + src + ",\n" +
		"h AS (SELECT " + strings.Join(append(withPrefix("bkt", g), fb.String()+" AS f"), ", ") +
		" FROM s WHERE v >= " + strconv.FormatFloat(bounds[0], 'g', -1, 64) + ")\n" +
		"SELECT " + strings.Join(append(withPrefix("bkt", g), "f", "count(*)"), ", ") + " FROM h GROUP BY GROUPING SETS ((" +
		strings.Join(append(withPrefix("bkt", g), "f"), ", ") + "), (" + strings.Join(append(append([]string{}, g...), "f"), ", ") + "))"
}
