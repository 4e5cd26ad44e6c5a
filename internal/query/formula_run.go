package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The formula metric functions that need a query of their own
// (formula_sql.go): percentiles, distinct values, sessions, array items,
// distributions and windows taken before the segment.

// xkey names one extra query of an event: kind pctl (PERCENTILE), freq
// (FREQPERCENTILE), pairs (PROPCOUNT, PROPCOUNTAVG), sessions
// (SESSIONTOTALS, EVENTTOTALS) or items (SEMANTICTOTALS).
type xkey struct {
	kind  string
	event int
	p     float64
	mode  string
}

// xrow is one row of an extra query: up to four figures.
type xrow [4]float64

// xgroup is one group's rows: per bucket and over the range.
type xgroup struct {
	pts []xrow
	all xrow
}

// extraKey returns the query an extra metric function reads.
func extraKey(m fmetric) (xkey, bool) {
	switch m.fn {
	case "PERCENTILE":
		return xkey{kind: "pctl", event: m.event, p: m.p}, true
	case "FREQPERCENTILE":
		return xkey{kind: "freq", event: m.event, p: m.p}, true
	case "PROPCOUNT", "PROPCOUNTAVG":
		return xkey{kind: "pairs", event: m.event}, true
	case "SESSIONTOTALS", "EVENTTOTALS":
		return xkey{kind: "sessions", event: m.event}, true
	case "SEMANTICTOTALS":
		return xkey{kind: "items", event: m.event, mode: m.mode}, true
	}
	return xkey{}, false
}

// extraValue computes extra metric function fn from its query's row.
func extraValue(fn string, x xrow) float64 {
	switch fn {
	case "PERCENTILE", "FREQPERCENTILE", "SESSIONTOTALS", "SEMANTICTOTALS":
		return x[0]
	case "PROPCOUNT":
		return x[2] // distinct values
	case "PROPCOUNTAVG":
		return div(x[0], x[1]) // distinct (user, value) pairs ÷ users
	case "EVENTTOTALS":
		return x[3] // events in a session
	}
	panic("BUG: extra formula function " + fn)
}

// extra runs the extra query k for segment seg, returning its rows by
// group key.
func (r *run) extra(ctx context.Context, seg *Segment, k xkey) (map[string]*xgroup, error) {
	ev := &r.s.Events[k.event]
	c := r.compiler(r.b)
	d := r.e.d
	ng := len(ev.GroupBy)
	var q string
	tail := 1
	switch k.kind {
	case "pctl":
		q = c.quantileSQL(c.source(ev, seg, ev.GroupBy, ev.Property.number(d), false), ng, k.p)
	case "freq":
		q = c.freqQuantileSQL(c.source(ev, seg, ev.GroupBy, "", true), ng, k.p)
	case "pairs":
		q, tail = c.pairsSQL(c.source(ev, seg, ev.GroupBy, ev.Property.text(d), true), ng, "v IS NOT NULL"), 4
	case "sessions":
		// session_id -1 is no session (spec §4).
		q, tail = c.pairsSQL(c.source(ev, seg, ev.GroupBy, "ev.session_id", true), ng, "v <> -1"), 4
	case "items":
		q = c.sumSQL(c.source(ev, seg, ev.GroupBy, itemsExpr(d, *ev.Property, k.mode == uniqueValues), false), ng)
	default:
		panic("BUG: extra query " + k.kind)
	}
	out := map[string]*xgroup{}
	err := r.query(ctx, q, 1, ng, tail, func(lead []sql.NullFloat64, key []string, t []sql.NullFloat64) {
		ks := strings.Join(key, "\x00")
		g := out[ks]
		if g == nil {
			g = &xgroup{pts: make([]xrow, r.b.n())}
			out[ks] = g
		}
		x := &g.all
		if lead[0].Valid {
			x = &g.pts[int(lead[0].Float64)]
		}
		for i := range tail {
			x[i] = t[i].Float64 // NULL (no values) reads 0
		}
	})
	return out, err
}

// fbins are the bins of a formula's distribution functions: the series
// of each event and group by bin. A formula without one has the one
// unnamed bin "".
type fbins struct {
	labels []string
	aggs   map[int]*agg // by event; gdata.sub and subA by bin
}

// value returns event ei's counts in bin of the group with key k.
func (b *fbins) value(ei int, k string, bin, n int) fvalue {
	v := fvalue{points: make([]float64, n)}
	a := b.aggs[ei]
	if a == nil || a.groups[k] == nil {
		return v
	}
	g := a.groups[k]
	if pts := g.sub[bin]; pts != nil {
		copy(v.points, pts)
	}
	v.collapsed = g.subA[bin]
	return v
}

// formulaBins computes the distributions formula f reads for segment seg:
// HIST as the frequency metric (users by their number of events, the
// chart's frequency_buckets), PROPHIST as prop_distribution (events by
// property value, the chart's distribution_buckets or ten equal bins
// over the values of all the formula's PROPHIST events).
func (r *run) formulaBins(ctx context.Context, f *formula, seg *Segment) (*fbins, error) {
	kind, err := f.checkDistributions()
	if err != nil {
		return nil, err
	}
	out := &fbins{labels: []string{""}, aggs: map[int]*agg{}}
	if kind == "" {
		return out, nil
	}
	var events []int
	for _, m := range f.metrics() {
		if distFuncs[m.fn] && out.aggs[m.event] == nil {
			out.aggs[m.event] = newAgg()
			events = append(events, m.event)
		}
	}
	c := r.compiler(r.b)
	if kind == "HIST" {
		bounds, labels := r.frequencyBounds()
		out.labels = labels
		for _, ei := range events {
			ev := &r.s.Events[ei]
			q := c.frequencySQL(c.source(ev, seg, ev.GroupBy, "", true), len(ev.GroupBy), bounds)
			if err := r.binQuery(ctx, q, ev, out.aggs[ei]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	bounds := r.s.DistributionBuckets
	if len(bounds) == 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, ei := range events {
			ev := &r.s.Events[ei]
			l, h, err := r.valueRange(ctx, c.source(ev, seg, ev.GroupBy, ev.Property.number(r.e.d), false))
			if err != nil {
				return nil, err
			}
			if l.Valid {
				lo, hi = math.Min(lo, l.Float64), math.Max(hi, h.Float64)
			}
		}
		if math.IsInf(lo, 1) {
			out.labels = nil // no values: no bins, no series
			return out, nil
		}
		bounds = autoBins(lo, hi)
	}
	out.labels = make([]string, len(bounds))
	for i, lo := range bounds {
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
		if i == len(bounds)-1 {
			out.labels[i] = f(lo) + "+"
		} else {
			out.labels[i] = f(lo) + "-" + f(bounds[i+1])
		}
	}
	for _, ei := range events {
		ev := &r.s.Events[ei]
		src := c.source(ev, seg, ev.GroupBy, ev.Property.number(r.e.d), false)
		if err := r.binQuery(ctx, c.distributionSQL(src, len(ev.GroupBy), bounds), ev, out.aggs[ei]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// binQuery reads a frequency or distribution query's rows into a.
func (r *run) binQuery(ctx context.Context, q string, ev *EventSpec, a *agg) error {
	return r.query(ctx, q, 1, len(ev.GroupBy), 2, func(lead []sql.NullFloat64, key []string, t []sql.NullFloat64) {
		r.addBin(a.group(key, r.b.n()), lead[0], int(t[0].Float64), t[1].Float64)
	})
}

// valueRange returns the minimum and maximum of v in src (NULL without
// values).
func (r *run) valueRange(ctx context.Context, src string) (lo, hi sql.NullFloat64, err error) {
	rows, err := r.e.q.QueryContext(ctx, r.compiler(r.b).rangeSQL(src))
	if err != nil {
		return lo, hi, fmt.Errorf("segmentation: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&lo, &hi); err != nil {
			return lo, hi, fmt.Errorf("segmentation: scan: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return lo, hi, fmt.Errorf("segmentation: %w", err)
	}
	return lo, hi, nil
}

// windowCellsBefore is windowCells for ROLLWINBEFORE: the window is taken
// over the event's events without the segment, then the segment keeps,
// for each point, the users it holds in the point's bucket (those with an
// active event there that passes its filters and who-performed
// conditions, new in it for new users). For a segment of any users
// without conditions it is windowCells.
func (r *run) windowCellsBefore(ctx context.Context, ev *EventSpec, seg *Segment, groups []PropRef, prop *PropRef, n int, act bool) (map[string][]cell, []float64, error) {
	if seg.Users == "any" && len(seg.Filters) == 0 && len(seg.Performed) == 0 {
		return r.windowCells(ctx, ev, seg, groups, prop, n, act)
	}
	wb, err := newBuckets(span{r.b.from, r.b.to}, r.s.Interval, r.s.weekStart(), n-1)
	if err != nil {
		return nil, nil, err
	}
	c := r.compiler(wb)
	value := ""
	if prop != nil {
		value = prop.number(r.e.d)
	}
	src := c.source(ev, &Segment{Users: "any"}, groups, value, true)
	tail := 2
	if value != "" {
		tail = 6
	}
	out := map[string][]cell{}
	err = r.query(ctx, c.beforeWindowSQL(src, ev, seg, len(groups), value != "", n), 1, len(groups), tail,
		func(lead []sql.NullFloat64, key []string, t []sql.NullFloat64) {
			i := int(lead[0].Float64) - (n - 1) // wb index to range index
			if i < 0 {
				return // a point before the range
			}
			k := strings.Join(key, "\x00")
			if out[k] == nil {
				out[k] = make([]cell, r.b.n())
			}
			x := &out[k][i]
			x.uniques, x.totals = t[0].Float64, t[1].Float64
			if value != "" {
				x.sum, x.cnt, x.min, x.max = t[2].Float64, t[3].Float64, t[4].Float64, t[5].Float64
				x.hasValue = x.cnt > 0
			}
		})
	if err != nil {
		return nil, nil, err
	}
	var actPts []float64
	if act {
		cells, _, err := r.windowCellsBefore(ctx, &EventSpec{EventType: EventActive}, seg, nil, nil, n, false)
		if err != nil {
			return nil, nil, err
		}
		actPts = make([]float64, r.b.n())
		for i, c := range cells[""] {
			actPts[i] = c.uniques
		}
	}
	return out, actPts, nil
}
