package query

import (
	"fmt"
	"strconv"
	"strings"
)

// The SQL of the formula functions that the main aggregate (aggSQL) does
// not give. Each reads the source s(uid, bkt, g.., v) of one event and
// segment (compiler.source) and returns, like aggSQL, one row per bucket
// and group and one per group over the whole range (bkt NULL).

// groupingSets is the GROUP BY of a per bucket and group, and per group
// over the range, aggregate.
func groupingSets(g []string) string {
	return " GROUP BY GROUPING SETS ((" + strings.Join(withPrefix("bkt", g), ", ") + "), (" + strings.Join(g, ", ") + "))"
}

// groupByOrNone is " GROUP BY g.." or "" without groups.
func groupByOrNone(g []string) string {
	if len(g) == 0 {
		return ""
	}
	return " GROUP BY " + strings.Join(g, ", ")
}

// quantileSQL is the q-quantile (0 to 1, linear interpolation) of v.
func (c *compiler) quantileSQL(src string, ngroups int, q float64) string {
	g := groupCols(ngroups)
	return "/* query.Segmentation.PERCENTILE */\n" + src + "\nSELECT " +
		strings.Join(append(withPrefix("bkt", g), c.d.Quantile("v", q)), ", ") + " FROM s" + groupingSets(g)
}

// freqQuantileSQL is the q-quantile of the users' event counts: per
// bucket the counts in the bucket, over the range the counts over it.
func (c *compiler) freqQuantileSQL(src string, ngroups int, q float64) string {
	g := groupCols(ngroups)
	per := func(name string, keys []string) string {
		return name + " AS (SELECT " + strings.Join(append(keys, "CAST(count(*) AS DOUBLE) AS n"), ", ") +
			" FROM s GROUP BY " + strings.Join(keys, ", ") + ")"
	}
	return "/* query.Segmentation.FREQPERCENTILE */\n" + src + ",\n" +
		per("per", append(withPrefix("bkt", g), "uid")) + ",\n" +
		per("pall", append(append([]string{}, g...), "uid")) + "\n" +
		"SELECT " + strings.Join(append(withPrefix("bkt", g), c.d.Quantile("n", q)), ", ") +
		" FROM per GROUP BY " + strings.Join(withPrefix("bkt", g), ", ") +
		"\nUNION ALL\nSELECT " + strings.Join(append(withPrefix("CAST(NULL AS BIGINT)", g), c.d.Quantile("n", q)), ", ") +
		" FROM pall" + groupByOrNone(g)
}

// pairsSQL counts, among the rows of s where cond holds, the distinct
// (user, v) pairs, the distinct users, the distinct values of v and the
// rows: per bucket and group, and per group over the range (where a pair
// seen in two buckets counts once).
func (c *compiler) pairsSQL(src string, ngroups int, cond string) string {
	g := groupCols(ngroups)
	per := func(name string, keys []string) string {
		return name + " AS (SELECT " + strings.Join(append(keys, "count(*) AS n"), ", ") +
			" FROM s WHERE " + cond + " GROUP BY " + strings.Join(keys, ", ") + ")"
	}
	counts := []string{"count(*)", c.d.CountDistinct("uid"), c.d.CountDistinct("v"), "CAST(sum(n) AS DOUBLE)"}
	return "/* query.Segmentation.pairs */\n" + src + ",\n" +
		per("d", append(append(withPrefix("bkt", g), "uid"), "v")) + ",\n" +
		per("da", append(append(append([]string{}, g...), "uid"), "v")) + "\n" +
		"SELECT " + strings.Join(append(withPrefix("bkt", g), counts...), ", ") +
		" FROM d GROUP BY " + strings.Join(withPrefix("bkt", g), ", ") +
		"\nUNION ALL\nSELECT " + strings.Join(append(withPrefix("CAST(NULL AS BIGINT)", g), counts...), ", ") +
		" FROM da" + groupByOrNone(g)
}

// sumSQL is the sum of v.
func (c *compiler) sumSQL(src string, ngroups int) string {
	g := groupCols(ngroups)
	return "/* query.Segmentation.SEMANTICTOTALS */\n" + src + "\nSELECT " +
		strings.Join(append(withPrefix("bkt", g), "CAST(sum(v) AS DOUBLE)"), ", ") + " FROM s" + groupingSets(g)
}

// itemsExpr counts the items of an array property on one event: the
// array's elements (distinct ones when unique), 1 for a value that is
// not an array, 0 when unset.
func itemsExpr(d Dialect, p PropRef, unique bool) string {
	text := p.text(d)
	list := p.list(d)
	if list == "" { // a scalar built-in
		return "CASE WHEN " + text + " IS NULL THEN 0 ELSE 1 END"
	}
	if unique {
		list = d.ListDistinct(list)
	}
	return "CASE WHEN " + text + " IS NULL THEN 0 WHEN substring(" + text + ", 1, 1) = '[' THEN " + d.ListLen(list) + " ELSE 1 END"
}

// beforeWindowSQL is windowSQL's ROLLWINBEFORE form. src is the source
// of the event without the segment, over buckets that start n-1 before
// the range; the segment seg selects, for each point, the users it holds
// in the point's bucket: those with an active event there that passes
// its filters and who-performed conditions (and, for new users, who are
// new in it), as activeUsers counts them. Per point bucket and group it returns the distinct users,
// events and the value's sum, count, min and max over the last n
// buckets of those users.
func (c *compiler) beforeWindowSQL(src string, ev *EventSpec, seg *Segment, ngroups int, value bool, n int) string {
	g := groupCols(ngroups)
	ctes := []string{}
	sw := []string{c.timeWhere(), c.typeCond(EventActive)}
	sw = append(sw, c.filters(seg.Filters)...)
	sw = append(sw, c.performed(seg, "ev.amplitude_id", "ev.event_time")...)
	ctes = append(ctes, "sev AS (SELECT DISTINCT "+canon+" AS uid, "+c.b.indexExpr(c.d, "ev.event_time")+
		" AS bkt FROM events ev LEFT JOIN m ON m.from_id = ev.amplitude_id WHERE "+and(sw)+")")
	if seg.Users == "new" {
		if ev.EventType != EventNew { // else the source defines nu
			ctes = append(ctes, c.newUsersCTE("nu"))
		}
		ctes = append(ctes, "su AS (SELECT sev.uid AS uid, sev.bkt AS bkt FROM sev JOIN nu ON nu.uid = sev.uid AND nu.bkt = sev.bkt)")
	} else {
		ctes = append(ctes, "su AS (SELECT uid, bkt FROM sev)")
	}
	inner := append(append(withPrefix("uid", g), "bkt"), "count(*) AS n")
	outer := []string{c.d.CountDistinct("w.uid"), "CAST(sum(w.n) AS DOUBLE)"}
	wcols := []string{"pu.uid AS uid", "pu.bkt + k.k AS b"}
	for _, x := range g {
		wcols = append(wcols, "pu."+x+" AS "+x)
	}
	wcols = append(wcols, "pu.n AS n")
	if value {
		inner = append(inner, "sum(v) AS vs", "count(v) AS vc", "min(v) AS vmin", "max(v) AS vmax")
		wcols = append(wcols, "pu.vs AS vs", "pu.vc AS vc", "pu.vmin AS vmin", "pu.vmax AS vmax")
		outer = append(outer, "sum(w.vs)", "CAST(sum(w.vc) AS DOUBLE)", "min(w.vmin)", "max(w.vmax)")
	}
	ctes = append(ctes,
		"pu AS (SELECT "+strings.Join(inner, ", ")+" FROM s GROUP BY "+strings.Join(append(withPrefix("uid", g), "bkt"), ", ")+")",
		"w AS (SELECT "+strings.Join(wcols, ", ")+" FROM pu CROSS JOIN "+c.d.Series(n, "k")+" k"+
			fmt.Sprintf(" WHERE pu.bkt + k.k < %d)", c.b.n()))
	keys := withPrefix("w.b", prefixAll("w.", g))
	return "/* query.Segmentation.ROLLWINBEFORE */\n" + src + ",\n" + strings.Join(ctes, ",\n") + "\n" +
		"SELECT " + strings.Join(append(keys, outer...), ", ") + " FROM w JOIN su ON su.uid = w.uid AND su.bkt = w.b" +
		" GROUP BY " + strings.Join(keys, ", ")
}

func prefixAll(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}

// formatQ formats a quantile for SQL.
func formatQ(q float64) string { return strconv.FormatFloat(q, 'g', -1, 64) }
