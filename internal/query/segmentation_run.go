package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Project is what the engine needs to know of a project.
type Project struct {
	ID int64
	// TimeZone is an IANA zone name; empty means UTC.
	TimeZone string
}

func (p Project) location() (*time.Location, error) {
	if p.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("project %d time zone: %w", p.ID, err)
	}
	return loc, nil
}

// cell holds the aggregates of one bucket (or the whole range) of one
// group of one event and segment.
type cell struct {
	uniques, totals         float64
	sum, cnt, min, max, med float64
	hasValue                bool
}

// gdata is one group's aggregates.
type gdata struct {
	key  []string
	pts  []cell
	all  cell
	sub  map[int][]float64 // frequency/distribution bin → per bucket counts
	subA map[int]float64   // bin → whole-range count
}

// agg is the aggregates of one event and segment, by group.
type agg struct {
	groups map[string]*gdata
	order  []string
}

func newAgg() *agg { return &agg{groups: map[string]*gdata{}} }

func (a *agg) group(key []string, nb int) *gdata {
	k := strings.Join(key, "\x00")
	g := a.groups[k]
	if g == nil {
		g = &gdata{key: key, pts: make([]cell, nb)}
		a.groups[k] = g
		a.order = append(a.order, k)
	}
	return g
}

// Segmentation runs an event segmentation chart for project p. now
// anchors relative ranges (zero means the current time).
func (e *Engine) Segmentation(ctx context.Context, p Project, s *Segmentation, now time.Time) (*Result, error) {
	if now.IsZero() {
		now = time.Now()
	}
	loc, err := p.location()
	if err != nil {
		return nil, err
	}
	sp, err := s.Range.resolve(loc, now, s.weekStart())
	if err != nil {
		return nil, err
	}
	res, err := e.segmentationSpan(ctx, p, s, sp)
	if err != nil {
		return nil, err
	}
	if c := s.Compare; c != nil {
		var prev span
		switch {
		case c.Days > 0:
			prev = span{sp.From.AddDate(0, 0, -c.Days), sp.To.AddDate(0, 0, -c.Days)}
		case s.Interval == Realtime || s.Interval == Hour:
			d := sp.To.Sub(sp.From)
			prev = span{sp.From.Add(-d), sp.From}
		case s.Interval == Month || s.Interval == Quarter:
			b, err := newBuckets(sp, s.Interval, s.weekStart(), 0)
			if err != nil {
				return nil, err
			}
			prev = span{step(b.starts[0], s.Interval, -b.n()), b.starts[0]}
		default:
			days := int(math.Round(sp.To.Sub(sp.From).Hours() / 24))
			prev = span{sp.From.AddDate(0, 0, -days), sp.From}
		}
		old, err := e.segmentationSpan(ctx, p, s, prev)
		if err != nil {
			return nil, err
		}
		res.CompareXValues = old.XValues
		for _, sr := range old.Series {
			sr.Compare = true
			sr.Label += " (compare)"
			vals := make([]float64, len(res.XValues))
			copy(vals, sr.Values)
			sr.Values = vals
			res.Series = append(res.Series, sr)
		}
	}
	return res, nil
}

func (e *Engine) segmentationSpan(ctx context.Context, p Project, s *Segmentation, sp span) (*Result, error) {
	b, err := newBuckets(sp, s.Interval, s.weekStart(), 0)
	if err != nil {
		return nil, err
	}
	res := &Result{XValues: make([]string, b.n()), Series: []Series{}}
	for i := range res.XValues {
		res.XValues[i] = b.label(i)
	}
	r := &run{e: e, s: s, p: p, b: b, segs: s.Segments}
	if len(r.segs) == 0 {
		r.segs = []Segment{{Name: "All Users", Users: "any"}}
	}
	if s.Rolling != nil && s.Rolling.Window > 1 {
		// Points read data before the range (windowCells, values).
		r.pre = s.Rolling.Window - 1
	}
	if s.Metric == FormulaMetric {
		err = r.formulas(ctx, res)
	} else {
		err = r.metric(ctx, res)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// run is the state of one chart computation.
type run struct {
	e    *Engine
	s    *Segmentation
	p    Project
	b    *buckets // the range
	pre  int      // rolling: the buckets read before the range
	segs []Segment
}

func (r *run) compiler(b *buckets) *compiler { return &compiler{d: r.e.d, project: r.p.ID, b: b} }

// query runs sql and calls scan for each row with the group key read
// from the columns after the first lead ones.
func (r *run) query(ctx context.Context, q string, lead, ngroups, tail int, fn func(lead []sql.NullFloat64, key []string, tail []sql.NullFloat64)) error {
	rows, err := r.e.q.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("segmentation: %w", err)
	}
	defer rows.Close()
	ld := make([]sql.NullFloat64, lead)
	gs := make([]sql.NullString, ngroups)
	tl := make([]sql.NullFloat64, tail)
	dest := make([]any, 0, lead+ngroups+tail)
	for i := range ld {
		dest = append(dest, &ld[i])
	}
	for i := range gs {
		dest = append(dest, &gs[i])
	}
	for i := range tl {
		dest = append(dest, &tl[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("segmentation: scan: %w", err)
		}
		key := make([]string, ngroups)
		for i, g := range gs {
			key[i] = None
			if g.Valid {
				key[i] = g.String
			}
		}
		fn(ld, key, tl)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("segmentation: %w", err)
	}
	return nil
}

// aggregate runs the main aggregate of event ev for segment seg over b.
// Uniques are counted only when uniques is set.
func (r *run) aggregate(ctx context.Context, b *buckets, ev *EventSpec, seg *Segment, groups []PropRef, prop *PropRef, uniques, median bool) (*agg, error) {
	if uniques && !median && prop == nil && len(groups) == 0 {
		if a, ok, err := r.aggregateFed(ctx, b, ev, seg); ok {
			return a, err
		}
	}
	c := r.compiler(b)
	value := ""
	if prop != nil {
		value = prop.number(r.e.d)
	}
	q := c.aggSQL(c.source(ev, seg, groups, value, uniques), len(groups), uniques, value != "", median)
	tail := 2
	if value != "" {
		tail = 6
		if median {
			tail = 7
		}
	}
	a := newAgg()
	if len(groups) == 0 {
		a.group(nil, b.n()) // an ungrouped chart has its series even when empty
	}
	err := r.query(ctx, q, 1, len(groups), tail, func(lead []sql.NullFloat64, key []string, t []sql.NullFloat64) {
		g := a.group(key, b.n())
		x := &g.all
		if lead[0].Valid {
			x = &g.pts[int(lead[0].Float64)]
		}
		x.uniques, x.totals = t[0].Float64, t[1].Float64
		if value != "" {
			x.sum, x.cnt, x.min, x.max = t[2].Float64, t[3].Float64, t[4].Float64, t[5].Float64
			x.hasValue = t[3].Float64 > 0
			if median {
				x.med = t[6].Float64
			}
		}
	})
	return a, err
}

// cumulativeUniques returns, by group key, the number of distinct users
// seen from the start of the range up to each bucket.
func (r *run) cumulativeUniques(ctx context.Context, ev *EventSpec, seg *Segment, groups []PropRef) (map[string][]float64, error) {
	c := r.compiler(r.b)
	out := map[string][]float64{}
	err := r.query(ctx, c.firstSQL(c.source(ev, seg, groups, "", true), len(groups)), 1, len(groups), 1,
		func(lead []sql.NullFloat64, key []string, t []sql.NullFloat64) {
			k := strings.Join(key, "\x00")
			if out[k] == nil {
				out[k] = make([]float64, r.b.n())
			}
			out[k][int(lead[0].Float64)] += t[0].Float64
		})
	for _, v := range out {
		for i := 1; i < len(v); i++ {
			v[i] += v[i-1]
		}
	}
	return out, err
}

// activeUsers returns the active users of segment seg per bucket of b and
// over the whole range (spec §5.0), for Active %.
func (r *run) activeUsers(ctx context.Context, b *buckets, seg *Segment) ([]float64, float64, error) {
	a, err := r.aggregate(ctx, b, &EventSpec{EventType: EventActive}, seg, nil, nil, true, false)
	if err != nil {
		return nil, 0, err
	}
	pts := make([]float64, b.n())
	var all float64
	for _, g := range a.groups {
		for i, c := range g.pts {
			pts[i] = c.uniques
		}
		all = g.all.uniques
	}
	return pts, all, nil
}

// eventLabel is the display name of event i.
func (r *run) eventLabel(i int) string {
	ev := r.s.Events[i]
	return displayName(ev.EventType, ev.Label)
}

// displayName is how charts name an event: its label when it has one,
// otherwise its type, the special types spelt out.
func displayName(eventType, label string) string {
	if label != "" {
		return label
	}
	switch eventType {
	case EventActive:
		return "Any Active Event"
	case EventAll:
		return "Any Event"
	case EventNew:
		return "New User"
	}
	return eventType
}

func (r *run) label(first string, seg int, group []string, bucket string) string {
	parts := []string{first}
	if len(r.segs) > 1 {
		name := r.segs[seg].Name
		if name == "" {
			name = "Segment " + strconv.Itoa(seg+1)
		}
		parts = append(parts, name)
	}
	parts = append(parts, group...)
	if bucket != "" {
		parts = append(parts, bucket)
	}
	return strings.Join(parts, " · ")
}

// topGroups returns the group keys of a ordered by their whole-range
// figure (uniques, then totals), largest first, at most limit of them.
func topGroups(a *agg, limit int, by func(*gdata) float64) []string {
	keys := slices.Clone(a.order)
	slices.SortStableFunc(keys, func(x, y string) int {
		gx, gy := a.groups[x], a.groups[y]
		if d := by(gy) - by(gx); d != 0 {
			if d > 0 {
				return 1
			}
			return -1
		}
		return strings.Compare(x, y)
	})
	if len(keys) > limit {
		keys = keys[:limit]
	}
	return keys
}

// metric computes a non-formula chart.
func (r *run) metric(ctx context.Context, res *Result) error {
	s := r.s
	for si := range r.segs {
		seg := &r.segs[si]
		var act []float64
		var actAll float64
		if s.Metric == ActivePct {
			var err error
			if act, actAll, err = r.activeUsers(ctx, r.b, seg); err != nil {
				return err
			}
		}
		for ei := range s.Events {
			ev := &s.Events[ei]
			median := s.Metric == PropMedian
			uniques := s.Metric.needsUniques()
			a, err := r.aggregate(ctx, r.b, ev, seg, ev.GroupBy, ev.Property, uniques, median)
			if err != nil {
				return err
			}
			rank := func(g *gdata) float64 { return g.all.totals }
			if uniques {
				rank = func(g *gdata) float64 { return g.all.uniques }
			}
			keys := topGroups(a, s.GroupLimit, rank)
			switch s.Metric {
			case Frequency:
				if err := r.frequency(ctx, res, ei, si, a, keys); err != nil {
					return err
				}
				continue
			case PropDistribution:
				if err := r.distribution(ctx, res, ei, si, a, keys); err != nil {
					return err
				}
				continue
			}
			vals, err := r.values(ctx, ev, seg, a, keys, act, actAll)
			if err != nil {
				return err
			}
			for ki, k := range keys {
				g := a.groups[k]
				res.Series = append(res.Series, Series{
					Label: r.label(r.eventLabel(ei), si, groupOrNil(g.key), ""), Event: ei, Segment: si,
					Group: groupOrNil(g.key), Values: vals[ki].points, Collapsed: vals[ki].collapsed,
				})
			}
		}
	}
	return nil
}

func groupOrNil(k []string) []string {
	if len(k) == 0 {
		return nil
	}
	return k
}

// value computes metric m from a cell; act is the active users.
func value(m Metric, c cell, act float64) float64 {
	switch m {
	case Uniques:
		return c.uniques
	case Totals:
		return c.totals
	case ActivePct:
		return 100 * div(c.uniques, act)
	case Average:
		return div(c.totals, c.uniques)
	case PropSum:
		return c.sum
	case PropAvg:
		return div(c.sum, c.cnt)
	case PropMin:
		return c.min
	case PropMax:
		return c.max
	case PropMedian:
		return c.med
	}
	panic("BUG: value of metric " + string(m))
}

// values computes the plotted points of the chosen groups, applying
// cumulative and rolling options.
func (r *run) values(ctx context.Context, ev *EventSpec, seg *Segment, a *agg, keys []string, act []float64, actAll float64) ([]fvalue, error) {
	s := r.s
	out := make([]fvalue, len(keys))
	for ki, k := range keys {
		g := a.groups[k]
		v := fvalue{points: make([]float64, r.b.n()), collapsed: value(s.Metric, g.all, actAll)}
		for i, c := range g.pts {
			var ac float64
			if act != nil {
				ac = act[i]
			}
			v.points[i] = value(s.Metric, c, ac)
		}
		out[ki] = v
	}
	if s.Cumulative {
		if s.Metric == Uniques {
			cum, err := r.cumulativeUniques(ctx, ev, seg, ev.GroupBy)
			if err != nil {
				return nil, err
			}
			for ki, k := range keys {
				if c := cum[k]; c != nil {
					out[ki].points = c
				}
			}
		} else {
			for _, v := range out {
				for i := 1; i < len(v.points); i++ {
					v.points[i] += v.points[i-1]
				}
			}
		}
	}
	if s.Rolling == nil || r.pre == 0 {
		return out, nil
	}
	n := s.Rolling.Window
	if s.Rolling.Mode == "window" {
		cells, act, err := r.windowCells(ctx, ev, seg, ev.GroupBy, ev.Property, n, s.Metric == ActivePct)
		if err != nil {
			return nil, err
		}
		for ki, k := range keys {
			for i := range out[ki].points {
				var ac float64
				if act != nil {
					ac = act[i]
				}
				var c cell
				if cs := cells[k]; cs != nil {
					c = cs[i]
				}
				out[ki].points[i] = value(s.Metric, c, ac)
			}
		}
		return out, nil
	}
	// Rolling average: the points over the extended buckets, averaged.
	wb, err := newBuckets(span{r.b.from, r.b.to}, s.Interval, s.weekStart(), n-1)
	if err != nil {
		return nil, err
	}
	wa, err := r.aggregate(ctx, wb, ev, seg, ev.GroupBy, ev.Property, s.Metric.needsUniques(), s.Metric == PropMedian)
	if err != nil {
		return nil, err
	}
	var wact []float64
	if s.Metric == ActivePct {
		if wact, _, err = r.activeUsers(ctx, wb, seg); err != nil {
			return nil, err
		}
	}
	for ki, k := range keys {
		cells := make([]cell, wb.n())
		if g := wa.groups[k]; g != nil {
			cells = g.pts
		}
		pts := make([]float64, len(cells))
		for i, c := range cells {
			var ac float64
			if wact != nil {
				ac = wact[i]
			}
			pts[i] = value(s.Metric, c, ac)
		}
		out[ki].points = rollingMean(pts, n)[n-1:]
	}
	return out, nil
}

// windowCells returns, by group key, the cells of ev over windows of the
// last n buckets up to each bucket of the range (uniques counted over
// the window, totals and sums added, min and max combined), and with act
// the active users over the same windows.
func (r *run) windowCells(ctx context.Context, ev *EventSpec, seg *Segment, groups []PropRef, prop *PropRef, n int, act bool) (map[string][]cell, []float64, error) {
	wb, err := newBuckets(span{r.b.from, r.b.to}, r.s.Interval, r.s.weekStart(), n-1)
	if err != nil {
		return nil, nil, err
	}
	wa, err := r.aggregate(ctx, wb, ev, seg, groups, prop, false, false)
	if err != nil {
		return nil, nil, err
	}
	c := r.compiler(wb)
	uniq := map[string][]float64{}
	err = r.query(ctx, c.windowSQL(c.source(ev, seg, groups, "", true), len(groups), n), 1, len(groups), 1,
		func(lead []sql.NullFloat64, key []string, t []sql.NullFloat64) {
			k := strings.Join(key, "\x00")
			if uniq[k] == nil {
				uniq[k] = make([]float64, wb.n())
			}
			uniq[k][int(lead[0].Float64)] = t[0].Float64
		})
	if err != nil {
		return nil, nil, err
	}
	out := map[string][]cell{}
	for k, g := range wa.groups {
		cs := make([]cell, r.b.n())
		for i := range cs {
			w := cell{min: math.Inf(1), max: math.Inf(-1)}
			end := i + n - 1 // index in wb
			for j := i; j <= end; j++ {
				x := g.pts[j]
				w.totals += x.totals
				w.sum += x.sum
				w.cnt += x.cnt
				if x.hasValue {
					w.min, w.max, w.hasValue = math.Min(w.min, x.min), math.Max(w.max, x.max), true
				}
			}
			if !w.hasValue {
				w.min, w.max = 0, 0
			}
			if u := uniq[k]; u != nil {
				w.uniques = u[end]
			}
			cs[i] = w
		}
		out[k] = cs
	}
	var actPts []float64
	if act {
		cells, _, err := r.windowCells(ctx, &EventSpec{EventType: EventActive}, seg, nil, nil, n, false)
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

// frequencyBounds returns the lower bounds and labels of the frequency buckets.
func (r *run) frequencyBounds() ([]int, []string) {
	bounds := r.s.FrequencyBuckets
	if len(bounds) == 0 {
		bounds = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	}
	labels := make([]string, len(bounds))
	for i, lo := range bounds {
		switch {
		case i == len(bounds)-1:
			labels[i] = strconv.Itoa(lo) + "+"
		case bounds[i+1] == lo+1:
			labels[i] = strconv.Itoa(lo)
		default:
			labels[i] = strconv.Itoa(lo) + "-" + strconv.Itoa(bounds[i+1]-1)
		}
	}
	return bounds, labels
}

func (r *run) frequency(ctx context.Context, res *Result, ei, si int, a *agg, keys []string) error {
	ev := &r.s.Events[ei]
	c := r.compiler(r.b)
	bounds, labels := r.frequencyBounds()
	err := r.query(ctx, c.frequencySQL(c.source(ev, &r.segs[si], ev.GroupBy, "", true), len(ev.GroupBy), bounds), 1, len(ev.GroupBy), 2,
		func(lead []sql.NullFloat64, key []string, t []sql.NullFloat64) {
			r.addBin(a.group(key, r.b.n()), lead[0], int(t[0].Float64), t[1].Float64)
		})
	if err != nil {
		return err
	}
	r.binSeries(res, ei, si, a, keys, labels)
	return nil
}

func (r *run) addBin(g *gdata, bkt sql.NullFloat64, bin int, n float64) {
	if g.sub == nil {
		g.sub, g.subA = map[int][]float64{}, map[int]float64{}
	}
	if !bkt.Valid {
		g.subA[bin] = n
		return
	}
	if g.sub[bin] == nil {
		g.sub[bin] = make([]float64, r.b.n())
	}
	g.sub[bin][int(bkt.Float64)] = n
}

func (r *run) binSeries(res *Result, ei, si int, a *agg, keys []string, labels []string) {
	for _, k := range keys {
		g := a.groups[k]
		for bin, l := range labels {
			vals := g.sub[bin]
			if vals == nil {
				vals = make([]float64, r.b.n())
			}
			res.Series = append(res.Series, Series{
				Label: r.label(r.eventLabel(ei), si, groupOrNil(g.key), l), Event: ei, Segment: si,
				Group: groupOrNil(g.key), Bucket: l, Values: vals, Collapsed: g.subA[bin],
			})
		}
	}
}

func (r *run) distribution(ctx context.Context, res *Result, ei, si int, a *agg, keys []string) error {
	ev := &r.s.Events[ei]
	c := r.compiler(r.b)
	value := ev.Property.number(r.e.d)
	src := c.source(ev, &r.segs[si], ev.GroupBy, value, false)
	bounds := r.s.DistributionBuckets
	if len(bounds) == 0 {
		var lo, hi sql.NullFloat64
		rows, err := r.e.q.QueryContext(ctx, c.rangeSQL(src))
		if err != nil {
			return fmt.Errorf("segmentation: %w", err)
		}
		for rows.Next() {
			if err := rows.Scan(&lo, &hi); err != nil {
				rows.Close()
				return fmt.Errorf("segmentation: scan: %w", err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("segmentation: %w", err)
		}
		if !lo.Valid {
			return nil // no values: no bins
		}
		bounds = autoBins(lo.Float64, hi.Float64)
	}
	labels := make([]string, len(bounds))
	for i, lo := range bounds {
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
		if i == len(bounds)-1 {
			labels[i] = f(lo) + "+"
		} else {
			labels[i] = f(lo) + "-" + f(bounds[i+1])
		}
	}
	err := r.query(ctx, c.distributionSQL(src, len(ev.GroupBy), bounds), 1, len(ev.GroupBy), 2,
		func(lead []sql.NullFloat64, key []string, t []sql.NullFloat64) {
			r.addBin(a.group(key, r.b.n()), lead[0], int(t[0].Float64), t[1].Float64)
		})
	if err != nil {
		return err
	}
	r.binSeries(res, ei, si, a, keys, labels)
	return nil
}

// autoBins returns the lower bounds of ten equal bins from lo to hi (one
// bin when they are equal).
func autoBins(lo, hi float64) []float64 {
	if hi <= lo {
		return []float64{lo}
	}
	w := (hi - lo) / 10
	out := make([]float64, 10)
	for i := range out {
		out[i] = lo + float64(i)*w
	}
	return out
}
