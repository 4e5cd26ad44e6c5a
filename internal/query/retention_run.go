package query

import (
	"context"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Retention is computed like funnels: one statement reduces the events
// to one value per user and day of the project's zone — the day, the
// hours (a 24-bit mask) with start events and the hours with return
// events — aggregated into one list per user, and Go workers fold the
// users. Rolling 24-hour windows are computed on those hours (spec §5.3:
// timestamps floored to the hour), 7- and 30-day blocks and calendar
// intervals on the days.

// dayRec is one user-day: relative day d and the hour masks of start
// and return events.
type dayRec struct {
	d    int32
	s, r uint32
}

// retKernel is the compiled form of a retention chart.
type retKernel struct {
	r        *Retention
	nInt     int     // intervals 0..nInt-1 considered
	cohortOf []int32 // by relative day: cohort index, -1 outside the range
	bucketOf []int32 // by relative day: calendar interval index
	block    int32   // rolling weeks and months: days per block
	colOf    []int   // by interval: column (bracket index), -1 none
	ncol     int
	sel      *retSel // point-user mode (pointusers_retention.go), else nil
	usage    bool    // the usage interval view: ncol columns of median gaps
}

// retAcc accumulates one group's retention.
type retAcc struct {
	size  []int64
	ret   [][]int64 // cohort × column
	users int64
	usage []int64      // usage interval view: users per column
	uid   int64        // the user being folded (point-user mode)
	recs  []retOutcome // point-user mode: the selected cells' users
}

func (k *retKernel) newAcc(ncohorts int) *retAcc {
	a := &retAcc{size: make([]int64, ncohorts), ret: make([][]int64, ncohorts)}
	if k.usage {
		a.usage = make([]int64, k.ncol)
	}
	for i := range a.ret {
		a.ret[i] = make([]int64, k.ncol)
	}
	return a
}

func (a *retAcc) merge(o *retAcc) {
	a.users += o.users
	a.recs = append(a.recs, o.recs...)
	for i := range a.usage {
		a.usage[i] += o.usage[i]
	}
	for c := range a.size {
		a.size[c] += o.size[c]
		for j := range a.ret[c] {
			a.ret[c][j] += o.ret[c][j]
		}
	}
}

// foldUsage adds one user's days (sorted by d) to the usage interval
// view: the median of the gaps between consecutive days with the start
// event in the range (the mean of the two middle gaps for an even
// count), rounded up to whole intervals of k.block days. Users with
// fewer than two such days are left out.
func (k *retKernel) foldUsage(days []dayRec, a *retAcc, gaps []int32) []int32 {
	gaps = gaps[:0]
	last := int32(-1)
	for _, d := range days {
		if d.s == 0 || int(d.d) >= len(k.cohortOf) || k.cohortOf[d.d] < 0 || d.d == last {
			continue
		}
		if last >= 0 {
			gaps = append(gaps, d.d-last)
		}
		last = d.d
	}
	if len(gaps) == 0 {
		return gaps
	}
	slices.Sort(gaps)
	n := len(gaps)
	m2 := 2 * gaps[n/2] // twice the median, in days
	if n%2 == 0 {
		m2 = gaps[n/2-1] + gaps[n/2]
	}
	col := int((m2+2*k.block-1)/(2*k.block)) - 1
	a.usage[min(col, k.ncol-1)]++
	a.users++
	return gaps
}

// fold adds one user's days (sorted by d) to a; set is scratch space
// of nInt+ncol bools.
func (k *retKernel) fold(days []dayRec, a *retAcc, set []bool) {
	counted := false
	for i := 0; i < len(days); {
		if days[i].s == 0 || int(days[i].d) >= len(k.cohortOf) || k.cohortOf[days[i].d] < 0 {
			i++
			continue
		}
		c := k.cohortOf[days[i].d]
		j := i
		for j < len(days) && int(days[j].d) < len(k.cohortOf) && k.cohortOf[days[j].d] == c {
			j++
		}
		clear(set[:k.nInt])
		maxN := -1
		mark := func(n int) {
			if n >= 0 && n < k.nInt {
				set[n] = true
			}
			maxN = max(maxN, n)
		}
		for _, sd := range days[i:j] {
			if sd.s == 0 {
				continue
			}
			sLo, sHi := bits.TrailingZeros32(sd.s), 31-bits.LeadingZeros32(sd.s)
			// Returns before the start's day never count.
			for _, rd := range days[i:] {
				if rd.r == 0 || rd.d < sd.d {
					continue
				}
				kd := rd.d - sd.d
				switch {
				case k.r.Calendar:
					mark(int(k.bucketOf[rd.d] - k.bucketOf[sd.d]))
				case k.r.Interval == Day:
					rLo, rHi := bits.TrailingZeros32(rd.r), 31-bits.LeadingZeros32(rd.r)
					if rHi >= sLo {
						mark(int(kd))
					}
					if kd >= 1 && rLo < sHi {
						mark(int(kd) - 1)
					}
				default:
					mark(int(kd / k.block))
				}
			}
		}
		a.size[c]++
		counted = true
		if k.sel != nil && k.sel.col < 0 {
			a.recs = append(a.recs, retOutcome{uid: a.uid, cohort: c})
		}
		if k.r.Mode == ModeUnbounded {
			for n := 0; n <= min(maxN, k.nInt-1); n++ {
				a.ret[c][n]++
			}
			if k.sel != nil && k.sel.col >= 0 && k.sel.col <= min(maxN, k.nInt-1) {
				a.recs = append(a.recs, retOutcome{uid: a.uid, cohort: c})
			}
		} else {
			hit := set[k.nInt:]
			clear(hit)
			for n, ok := range set[:k.nInt] {
				if ok && k.colOf[n] >= 0 {
					hit[k.colOf[n]] = true
				}
			}
			for col, h := range hit {
				if h {
					a.ret[c][col]++
				}
			}
			if k.sel != nil && k.sel.col >= 0 && hit[k.sel.col] {
				a.recs = append(a.recs, retOutcome{uid: a.uid, cohort: c})
			}
		}
		i = j
	}
	if counted {
		a.users++
	}
}

// shl and bitOr are the few non-portable pieces of the retention SQL.
func shl(d Dialect, x string) string {
	if d.Name() == "clickhouse" {
		return "bitShiftLeft(toInt64(1), " + x + ")"
	}
	return "(CAST(1 AS BIGINT) << CAST(" + x + " AS INTEGER))"
}

func bitOr(d Dialect, x string) string {
	if d.Name() == "clickhouse" {
		return "groupBitOr(" + x + ")"
	}
	return "bit_or(" + x + ")"
}

// retentionSQL builds the statement of r for segment seg; D0 is the wall
// day of from.
func (e *Engine) retentionSQL(p Project, r *Retention, seg *Segment, b *buckets, from, to, end int64, loc *time.Location, d0 int64) string {
	d := e.d
	c := &compiler{d: d, project: p.ID, b: b}
	off := (&buckets{loc: loc, from: time.UnixMilli(from).In(loc), to: time.UnixMilli(end).In(loc)}).offsetExpr("ev.event_time")
	isNew := r.Start.EventType == EventNew
	start := "FALSE"
	if !isNew {
		start = "(" + and(append([]string{c.stepCond(r.Start.EventType, r.Start.Filters, seg.Filters)}, c.performed(seg, "ev.amplitude_id", "ev.event_time")...)) +
			fmt.Sprintf(" AND ev.event_time < %d)", to)
	}
	cols := []string{canon + " AS uid", d.IntDiv("ev.event_time + "+off, "3600000") + " AS wh", start + " AS s"}
	any := []string{start}
	for i, re := range r.Return {
		cond := c.stepCond(re.EventType, re.Filters, nil)
		cols = append(cols, cond+fmt.Sprintf(" AS r%d", i))
		any = append(any, cond)
	}
	ctes := []string{c.mergesCTE()}
	needFS := isNew || seg.Users == "new"
	if needFS {
		ctes = append(ctes, fmt.Sprintf("fs AS (SELECT coalesce(m.into_id, u.amplitude_id) AS uid, min(u.first_seen) AS t "+
			"FROM users u LEFT JOIN m ON m.from_id = u.amplitude_id WHERE u.project_id = %d "+
			"GROUP BY coalesce(m.into_id, u.amplitude_id) HAVING min(u.first_seen) >= %d AND min(u.first_seen) < %d)", p.ID, from, to))
	}
	ev := "SELECT " + strings.Join(cols, ", ") + " FROM events ev LEFT JOIN m ON m.from_id = ev.amplitude_id WHERE " +
		fmt.Sprintf("ev.project_id = %d AND ev.event_time >= %d AND ev.event_time < %d AND (%s)", p.ID, from, end, strings.Join(any, " OR "))
	if isNew {
		fsCols := []string{"fs.uid", d.IntDiv("fs.t + "+strings.ReplaceAll(off, "ev.event_time", "fs.t"), "3600000"), "TRUE"}
		for range r.Return {
			fsCols = append(fsCols, "FALSE")
		}
		conds := c.performed(seg, "fs.uid", "fs.t")
		if len(seg.Filters) > 0 {
			// Spec §5.3: a new user is in the segment when its conditions
			// hold on an event of the user's first bucket: the first hour
			// with 24-hour windows (computed on hours), the first day
			// otherwise (docs/funnels.md).
			unit := "86400000"
			if !r.Calendar && r.Interval == Day {
				unit = "3600000"
			}
			where := append([]string{fmt.Sprintf("ev.project_id = %d AND ev.event_time >= %d AND ev.event_time < %s + %d", p.ID, from, unit, to)}, c.filters(seg.Filters)...)
			ctes = append(ctes, "fq AS (SELECT DISTINCT "+canon+" AS uid, "+d.IntDiv("ev.event_time + "+off, unit)+" AS b "+
				"FROM events ev LEFT JOIN m ON m.from_id = ev.amplitude_id WHERE "+and(where)+")")
			conds = append(conds, "(fs.uid, "+d.IntDiv("fs.t + "+strings.ReplaceAll(off, "ev.event_time", "fs.t"), unit)+") IN (SELECT uid, b FROM fq)")
		}
		ev += "\nUNION ALL SELECT " + strings.Join(fsCols, ", ") + " FROM fs WHERE " + and(conds)
	}
	ctes = append(ctes, "e AS ("+ev+")")
	dayExpr := d.IntDiv("wh", "24")
	hour := "wh - " + dayExpr + " * 24"
	dsel := []string{"e.uid", dayExpr + fmt.Sprintf(" - %d AS d", d0), bitOr(d, "CASE WHEN s THEN "+shl(d, hour)+" ELSE 0 END") + " AS sm"}
	for i := range r.Return {
		dsel = append(dsel, bitOr(d, fmt.Sprintf("CASE WHEN r%d THEN %s ELSE 0 END", i, shl(d, hour)))+fmt.Sprintf(" AS rm%d", i))
	}
	join := ""
	if seg.Users == "new" {
		join = " JOIN fs ON fs.uid = e.uid"
	}
	ctes = append(ctes, "dd AS (SELECT "+strings.Join(dsel, ", ")+" FROM e"+join+" GROUP BY e.uid, "+dayExpr+")")
	sel := []string{"uid"}
	for i := range r.Return {
		sel = append(sel, listText(d, fmt.Sprintf("d * %d + sm * %d + rm%d", int64(1)<<48, int64(1)<<24, i)))
	}
	return "/* query.Retention */\nWITH " + strings.Join(ctes, ",\n") + "\nSELECT " + strings.Join(sel, ", ") +
		" FROM dd GROUP BY uid HAVING max(sm) > 0"
}

// retentionGroupSQL returns each user's group-by value on their first
// start event in the range.
func (e *Engine) retentionGroupSQL(p Project, r *Retention, seg *Segment, b *buckets, from, to int64) string {
	c := &compiler{d: e.d, project: p.ID, b: b}
	start := c.stepCond(r.Start.EventType, r.Start.Filters, seg.Filters)
	if r.Start.EventType == EventNew {
		start = "TRUE"
	}
	start = and(append([]string{start}, c.performed(seg, "ev.amplitude_id", "ev.event_time")...))
	return "/* query.Retention.group */\nWITH " + c.mergesCTE() + ",\n" +
		"e AS (SELECT " + canon + " AS uid, ev.event_time AS t, " + r.GroupBy.text(e.d) + " AS g FROM events ev LEFT JOIN m ON m.from_id = ev.amplitude_id WHERE " +
		fmt.Sprintf("ev.project_id = %d AND ev.event_time >= %d AND ev.event_time < %d AND %s", p.ID, from, to, start) + "),\n" +
		"f AS (SELECT uid, min(t) AS t FROM e GROUP BY uid)\n" +
		"SELECT e.uid, min(coalesce(e.g, " + e.d.String(None) + ")) FROM e JOIN f ON f.uid = e.uid AND f.t = e.t GROUP BY e.uid"
}

// parseDays parses a list of packed user-days.
func parseDays(s string, out []dayRec) ([]dayRec, error) {
	var x int64
	inNum := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			x = x*10 + int64(c-'0')
			inNum = true
			continue
		}
		switch c {
		case ',', ']':
			if inNum {
				out = append(out, dayRec{d: int32(x >> 48), s: uint32(x>>24) & (1<<24 - 1), r: uint32(x) & (1<<24 - 1)})
			}
			x, inNum = 0, false
		case '[', ' ':
		default:
			return out, fmt.Errorf("retention: unexpected %q in list text", c)
		}
	}
	return out, nil
}

// Retention runs a retention chart for project p; now anchors relative
// ranges and decides which cells are complete.
func (e *Engine) Retention(ctx context.Context, p Project, r *Retention, now time.Time) (*RetentionResult, error) {
	return e.retention(ctx, p, r, now, nil)
}

// retention runs r; with sel (point-user mode) it folds sel's segment
// only, recording the users of sel's cells, and hands sel the
// accumulators of sel's return event.
func (e *Engine) retention(ctx context.Context, p Project, r *Retention, now time.Time, sel *retSel) (*RetentionResult, error) {
	ws := weekday(r.WeekStart)
	fr, err := newFrame(p, r.Range, r.Interval, ws, now)
	if err != nil {
		return nil, err
	}
	now, loc, sp, b := fr.now, fr.loc, fr.span, fr.b
	nc := b.n()
	k := &retKernel{r: r, nInt: r.Intervals}
	if k.nInt == 0 {
		k.nInt = nc + 1
	}
	if r.Mode == ModeBracket {
		k.nInt = r.Brackets[len(r.Brackets)-1][1] + 1
		k.colOf = slices.Repeat([]int{-1}, k.nInt)
		for i, br := range r.Brackets {
			for n := br[0]; n <= br[1]; n++ {
				k.colOf[n] = i
			}
		}
		k.ncol = len(r.Brackets)
	} else {
		k.colOf = make([]int, k.nInt)
		for n := range k.colOf {
			k.colOf[n] = n
		}
		k.ncol = k.nInt
	}
	k.block = map[Interval]int32{Day: 1, Week: 7, Month: 30}[r.Interval]
	k.sel = sel
	from, to := sp.From.UnixMilli(), sp.To.UnixMilli()
	usageCapped := false
	if r.View == ViewUsageInterval {
		// The start event is also the "return" the statement fetches, and
		// only days in the range matter.
		if sel != nil {
			return nil, fieldErr("view", "the usage interval view does not list users")
		}
		rr := *r
		rr.Return = []RetentionEvent{r.Start}
		rr.Calendar, rr.Mode, rr.Brackets = false, ModeNDay, nil
		r = &rr
		k.r = r
		k.usage = true
		// Columns: 1 .. the longest possible gap in intervals, at most
		// maxUsageColumns (the last one then holds longer gaps).
		ndays := int32(sp.To.Sub(sp.From).Hours()/24 + 0.5)
		k.ncol = int(max(1, (ndays-1+k.block-1)/k.block))
		if k.ncol > maxUsageColumns {
			k.ncol, usageCapped = maxUsageColumns, true
		}
		k.nInt = 1
	}
	// Fetch returns up to nInt intervals after the last cohort ends.
	last := b.starts[nc]
	var endT time.Time
	if r.Calendar {
		endT = step(last, r.Interval, k.nInt)
	} else {
		endT = last.AddDate(0, 0, int(k.block)*k.nInt+1)
	}
	end := endT.UnixMilli()
	if k.usage {
		end = to
	}
	_, off0 := sp.From.Zone()
	d0 := floorDiv(from+int64(off0)*1000, 86_400_000)
	day0 := time.Date(sp.From.Year(), sp.From.Month(), sp.From.Day(), 0, 0, 0, 0, loc)
	ndays := int(endT.Sub(day0).Hours()/24) + 2
	k.cohortOf = make([]int32, 0, ndays)
	k.bucketOf = make([]int32, 0, ndays)
	firstBucket := truncate(day0, r.Interval, ws)
	startsMs := unixMillis(b.starts)
	for i := 0; i < ndays; i++ {
		t := day0.AddDate(0, 0, i)
		ci := int32(-1)
		if !t.Before(sp.From) && t.Before(sp.To) {
			ci = int32(bucketOf(startsMs, t.UnixMilli()))
		}
		k.cohortOf = append(k.cohortOf, ci)
		bt := truncate(t, r.Interval, ws)
		var bi int32
		switch r.Interval {
		case Day:
			bi = int32(i)
		case Week:
			bi = int32(int(bt.Sub(firstBucket).Hours()+12) / (24 * 7))
		case Month:
			bi = int32((bt.Year()-firstBucket.Year())*12 + int(bt.Month()) - int(firstBucket.Month()))
		}
		k.bucketOf = append(k.bucketOf, bi)
	}
	// Trim cohortOf to the range days (later days are never cohorts).
	for len(k.cohortOf) > 0 && k.cohortOf[len(k.cohortOf)-1] < 0 {
		k.cohortOf = k.cohortOf[:len(k.cohortOf)-1]
	}

	res := &RetentionResult{Columns: r.columnLabels(k.nInt), Series: []RetentionSeries{}}
	for i := 0; i < nc; i++ {
		res.Cohorts = append(res.Cohorts, b.label(i))
	}
	if k.usage {
		res.Columns, res.Cohorts = r.usageLabels(k.ncol, usageCapped), []string{}
	}
	complete := func(c, n int) bool {
		if r.Calendar {
			return !step(b.starts[c], r.Interval, n+1).After(now)
		}
		return !b.starts[c+1].AddDate(0, 0, int(k.block)*(n+1)).After(now)
	}
	segs := r.Segments
	if len(segs) == 0 {
		segs = []Segment{{Name: "All Users", Users: "any"}}
	}
	for si := range segs {
		if sel != nil && si != sel.segment {
			continue
		}
		seg := &segs[si]
		groupOf := map[int64]int32{}
		var labels []string
		if r.GroupBy != nil {
			if labels, err = e.retentionGroups(ctx, e.retentionGroupSQL(p, r, seg, b, from, to), groupOf); err != nil {
				return nil, err
			}
		}
		accs, err := e.foldRetention(ctx, k, e.retentionSQL(p, r, seg, b, from, to, end, loc, d0), nc, groupOf)
		if err != nil {
			return nil, err
		}
		if sel != nil {
			sel.accs, sel.labels, sel.complete = accs[sel.event], labels, complete
		}
		for ri := range r.Return {
			res.Series = append(res.Series, retentionSeries(r, k, accs[ri], labels, si, ri, seg, len(segs) > 1, res.Cohorts, complete)...)
		}
	}
	return res, nil
}

func unixMillis(ts []time.Time) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.UnixMilli()
	}
	return out
}

func (e *Engine) retentionGroups(ctx context.Context, q string, groupOf map[int64]int32) ([]string, error) {
	rows, err := e.q.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	defer rows.Close()
	ids := map[string]int32{}
	var labels []string
	for rows.Next() {
		var uid int64
		var g string
		if err := rows.Scan(&uid, &g); err != nil {
			return nil, fmt.Errorf("retention: scan: %w", err)
		}
		id, ok := ids[g]
		if !ok {
			id = int32(len(labels))
			ids[g] = id
			labels = append(labels, g)
		}
		groupOf[uid] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	return labels, nil
}

// foldRetention streams the per-user lists into workers; it returns,
// per return event, the accumulators by group id.
func (e *Engine) foldRetention(ctx context.Context, k *retKernel, q string, nc int, groupOf map[int64]int32) ([]map[int32]*retAcc, error) {
	rows, err := e.q.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	defer rows.Close()
	nr := len(k.r.Return)
	type job struct {
		uid   int64
		lists []string
	}
	nw := max(runtime.GOMAXPROCS(0), 1)
	jobs := make(chan []job, 2*nw)
	results := make([][]map[int32]*retAcc, nw)
	errs := make([]error, nw)
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		results[w] = make([]map[int32]*retAcc, nr)
		for ri := range results[w] {
			results[w][ri] = map[int32]*retAcc{}
		}
		wg.Add(1)
		go func(out []map[int32]*retAcc, errp *error) {
			defer wg.Done()
			var days []dayRec
			var gaps []int32
			set := make([]bool, k.nInt+k.ncol)
			for batch := range jobs {
				for _, j := range batch {
					g := groupOf[j.uid]
					for ri, l := range j.lists {
						var err error
						days, err = parseDays(l, days[:0])
						if err != nil && *errp == nil {
							*errp = err
						}
						slices.SortFunc(days, func(a, b dayRec) int { return int(a.d - b.d) })
						a := out[ri][g]
						if a == nil {
							a = k.newAcc(nc)
							out[ri][g] = a
						}
						a.uid = j.uid
						if k.usage {
							gaps = k.foldUsage(days, a, gaps)
						} else {
							k.fold(days, a, set)
						}
					}
				}
			}
		}(results[w], &errs[w])
	}
	var scanErr error
	batch := make([]job, 0, jobBatch)
	dest := make([]any, 1+nr)
	var uid int64
	dest[0] = &uid
	strs := make([]string, nr)
	for i := range strs {
		dest[1+i] = &strs[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			scanErr = fmt.Errorf("retention: scan: %w", err)
			break
		}
		if k.r.GroupBy != nil {
			if _, ok := groupOf[uid]; !ok {
				continue
			}
		}
		batch = append(batch, job{uid: uid, lists: slices.Clone(strs)})
		if len(batch) == jobBatch {
			jobs <- batch
			batch = make([]job, 0, jobBatch)
		}
	}
	if len(batch) > 0 {
		jobs <- batch
	}
	close(jobs)
	wg.Wait()
	if scanErr == nil {
		scanErr = rows.Err()
	}
	if scanErr != nil {
		return nil, fmt.Errorf("retention: %w", scanErr)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	out := results[0]
	for _, r := range results[1:] {
		for ri := range r {
			for g, a := range r[ri] {
				if out[ri][g] == nil {
					out[ri][g] = a
				} else {
					out[ri][g].merge(a)
				}
			}
		}
	}
	return out, nil
}

// retentionSeries renders the accumulators of one segment and return
// event, largest groups first.
func retentionSeries(r *Retention, k *retKernel, accs map[int32]*retAcc, labels []string, si, ri int, seg *Segment, named bool,
	cohorts []string, complete func(c, n int) bool) []RetentionSeries {
	if r.GroupBy == nil && accs[0] == nil {
		accs[0] = k.newAcc(len(cohorts))
	}
	type ent struct {
		label string
		a     *retAcc
	}
	var ents []ent
	for id, a := range accs {
		l := ""
		if r.GroupBy != nil {
			l = labels[id]
		}
		ents = append(ents, ent{l, a})
	}
	slices.SortFunc(ents, func(x, y ent) int {
		if x.a.users != y.a.users {
			if x.a.users > y.a.users {
				return -1
			}
			return 1
		}
		return strings.Compare(x.label, y.label)
	})
	if len(ents) > r.GroupLimit {
		ents = ents[:r.GroupLimit]
	}
	segName := seg.Name
	if segName == "" {
		segName = fmt.Sprintf("Segment %d", si+1)
	}
	evLabel := displayName(r.Return[ri].EventType, r.Return[ri].Label)
	var out []RetentionSeries
	for _, x := range ents {
		s := RetentionSeries{Segment: si, Event: ri, Users: x.a.users, Overall: make([]RetentionCell, k.ncol)}
		if k.usage {
			s.Usage, s.Overall = x.a.usage, []RetentionCell{}
		}
		parts := []string{evLabel}
		if named || r.GroupBy == nil {
			parts = append(parts, segName)
		}
		if r.GroupBy != nil {
			s.Group = []string{x.label}
			parts = append(parts, x.label)
		}
		s.Label = strings.Join(parts, " · ")
		for col := range s.Overall {
			s.Overall[col].Incomplete = true
		}
		for c := range cohorts {
			row := RetentionRow{Cohort: cohorts[c], Size: x.a.size[c], Cells: make([]RetentionCell, k.ncol)}
			for col := 0; col < k.ncol; col++ {
				n := col
				if r.Mode == ModeBracket {
					n = r.Brackets[col][1]
				}
				cell := RetentionCell{Count: x.a.ret[c][col], OutOf: x.a.size[c], Incomplete: !complete(c, n)}
				row.Cells[col] = cell
				if !cell.Incomplete {
					s.Overall[col].Count += cell.Count
					s.Overall[col].OutOf += cell.OutOf
					s.Overall[col].Incomplete = false
				}
			}
			s.Rows = append(s.Rows, row)
		}
		out = append(out, s)
	}
	return out
}
