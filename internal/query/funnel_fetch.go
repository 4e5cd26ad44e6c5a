package query

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The kernel's feed. One narrow statement selects the events of the
// funnel's steps (and exclusions). Without a group-by it packs each event
// into one integer, (time - base) << bits | mask (time in seconds in
// second resolution, which keeps the numbers short), and aggregates each
// user's events into one list rendered as text, so a user is one row:
// rows through database/sql cost 100-300 ns each and boxed list elements
// about as much (docs/funnels.md), while a list of integers as text is
// parsed by the workers, on every core, at a few ns per byte. With a
// group-by, or more mask bits than fit beside the time, it streams one
// row per event ordered by user and time.
//
// The statement reads raw Amplitude IDs: joining every event to the
// merges costs more than the rest of the scan. The few users with merged
// ids are gathered in Go and folded once all their rows are in.

// packBits is the most mask bits packed beside a time: 2^43 ms is 278
// years of range.
const packBits = 20

// seqJob is one user for a worker: either the list text to parse or
// the items already read.
type seqJob struct {
	uid    int64
	first  int64 // first_seen, new-user funnels
	texts  []string
	groups [][2]string // grouped lists: the group-by step's packed values and their values
	items  []item
}

// interner numbers group values; workers share it.
type interner struct {
	mu     sync.Mutex
	ids    map[string]int32
	labels []string
}

func (in *interner) id(v string) int32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	id, ok := in.ids[v]
	if !ok {
		id = int32(len(in.labels))
		in.ids[v] = id
		in.labels = append(in.labels, v)
	}
	return id
}

// assignGroups sets the group id of the items of the group-by step from
// the aligned lists of its packed values and values. nums are the
// items' packed values (sorted, as the items).
func assignGroups(k *funnelKernel, items []item, nums []int64, lists [][2]string, in *interner, ps []int64) ([]int64, error) {
	type pair struct {
		p int64
		g string
	}
	var pairs []pair
	for _, l := range lists {
		ps = ps[:0]
		var err error
		if ps, err = parseList(l[0], ps); err != nil {
			return ps, err
		}
		var gs []*string
		if err := json.Unmarshal([]byte(l[1]), &gs); err != nil {
			return ps, fmt.Errorf("funnel: group values: %w", err)
		}
		if len(gs) != len(ps) {
			return ps, fmt.Errorf("funnel: %d group values for %d events", len(gs), len(ps))
		}
		for i, p := range ps {
			v := None
			if gs[i] != nil {
				v = *gs[i]
			}
			pairs = append(pairs, pair{p, v})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(a.p, b.p) })
	bit := k.stepBits[k.gStep]
	for i := range items {
		if items[i].mask&bit == 0 {
			continue
		}
		j, ok := slices.BinarySearchFunc(pairs, nums[i], func(a pair, p int64) int { return cmp.Compare(a.p, p) })
		v := None
		if ok {
			v = pairs[j].g
		}
		items[i].g = in.id(v)
	}
	return ps, nil
}

// funnelSource describes one fetch.
type funnelSource struct {
	sql    string
	packed bool
	nbits  uint
	base   int64
	unit   int64 // ms per packed time unit (1000 in second resolution)
	hold   bool
	newU   bool
	group  bool
	canon  bool // uid is canonical (merges joined in SQL)
	// with is the statement's WITH clause, which defines e(uid, p, ...):
	// the fed path (funnel_feed.go) selects from it differently.
	with string
	end  int64 // the last event time fetched (ms)
}

// listText returns an aggregate rendering the list of the integer
// expression x over a group as text ("[1, 2, 3]" or "[1,2,3]").
func listText(d Dialect, x string) string {
	if d.Name() == "clickhouse" {
		return "toString(groupArray(" + x + "))"
	}
	// DuckDB's JSON writer renders the list faster than a cast of the
	// list to VARCHAR (docs/funnels.md).
	return "CAST(to_json(list(" + x + ")) AS VARCHAR)"
}

// listTextIf is listText over the rows where cond holds, as JSON (NULL
// when none does).
func listTextIf(d Dialect, x, cond string) string {
	if d.Name() == "clickhouse" {
		return "toJSONString(groupArrayIf(" + x + ", " + cond + "))"
	}
	return "CAST(to_json(list(" + x + ") FILTER (WHERE " + cond + ")) AS VARCHAR)"
}

// stepCond is the SQL condition of an event type and filters.
func (c *compiler) stepCond(eventType string, filters []Filter, extra []Filter) string {
	conds := []string{c.typeCond(eventType)}
	conds = append(conds, c.filters(filters)...)
	conds = append(conds, c.filters(extra)...)
	return "(" + and(conds) + ")"
}

// funnelSQL builds the fetch statement of f for segment seg over the
// entry span [from, to).
func (e *Engine) funnelSQL(p Project, f *Funnel, seg *Segment, b *buckets, from, to int64) funnelSource {
	c := &compiler{d: e.d, project: p.ID, b: b}
	n := len(f.Steps)
	nbits := uint(n + len(f.Exclusions))
	// Each step and exclusion: its event type, conditions and bit.
	type part struct {
		typ   string
		conds []string
		bit   uint64
	}
	var parts []part
	for i, st := range f.Steps {
		var extra []Filter
		var performed []string
		if i == 0 || f.Order == OrderAny {
			extra = seg.Filters
			performed = c.performed(seg, "ev.amplitude_id", "ev.event_time")
		}
		parts = append(parts, part{st.EventType, append(append(c.filters(st.Filters), c.filters(extra)...), performed...), uint64(1) << uint(i)})
	}
	for i, x := range f.Exclusions {
		parts = append(parts, part{x.EventType, c.filters(x.Filters), uint64(1) << uint(n+i)})
	}
	raw := true // every part names a raw event type
	var types []string
	for _, pt := range parts {
		if pt.typ == EventAll || pt.typ == EventActive {
			raw = false
		} else if !slices.Contains(types, pt.typ) {
			types = append(types, pt.typ)
		}
	}
	var mask string
	var any []string
	if raw {
		// One CASE on the event type (cheaper than a CASE per part), each
		// branch summing the bits of its parts whose filters hold.
		var b strings.Builder
		b.WriteString("(CASE ev.event_type")
		filtered := false
		for _, typ := range types {
			var bits []string
			var fixed uint64
			for _, pt := range parts {
				switch {
				case pt.typ != typ:
				case len(pt.conds) == 0:
					fixed |= pt.bit
				default:
					filtered = true
					bits = append(bits, fmt.Sprintf("CASE WHEN %s THEN %d ELSE 0 END", and(pt.conds), pt.bit))
					any = append(any, "(ev.event_type = "+e.d.String(typ)+" AND "+and(pt.conds)+")")
				}
			}
			if fixed != 0 {
				bits = append(bits, strconv.FormatUint(fixed, 10))
				any = append(any, "ev.event_type = "+e.d.String(typ))
			}
			fmt.Fprintf(&b, " WHEN %s THEN %s", e.d.String(typ), strings.Join(bits, " + "))
		}
		b.WriteString(" ELSE 0 END)")
		mask = b.String()
		if !filtered {
			any = []string{"ev.event_type IN (" + c.list(types) + ")"}
		}
	} else {
		var maskParts []string
		for _, pt := range parts {
			cond := "(" + and(append([]string{c.typeCond(pt.typ)}, pt.conds...)) + ")"
			maskParts = append(maskParts, fmt.Sprintf("CASE WHEN %s THEN %d ELSE 0 END", cond, pt.bit))
			any = append(any, cond)
		}
		mask = "(" + strings.Join(maskParts, " + ") + ")"
	}
	end := to + f.window()
	where := []string{fmt.Sprintf("ev.project_id = %d AND ev.event_time >= %d AND ev.event_time <= %d", p.ID, from, end)}
	if f.Order == OrderExact {
		where = append(where, c.typeCond(EventActive))
	} else {
		where = append(where, "("+strings.Join(any, " OR ")+")")
	}
	src := funnelSource{nbits: nbits, base: from, group: f.GroupBy != nil, hold: len(f.Hold) > 0}
	src.packed = nbits <= packBits
	src.newU = f.NewUsers != "" || seg.Users == "new"
	src.canon = src.newU
	src.unit = 1
	if f.Resolution == "second" {
		src.unit = 1000
	}
	uid := "ev.amplitude_id"
	if src.canon {
		uid = canon
	}
	cols := []string{uid + " AS uid"}
	if src.hold {
		var hs []string
		for _, h := range f.Hold {
			hs = append(hs, h.text(e.d))
			if h.Type == PropDevice && h.Key == "session_id" {
				where = append(where, "ev.session_id <> -1")
			}
		}
		cols = append(cols, strings.Join(hs, " || chr(31) || ")+" AS h")
		where = append(where, "("+strings.Join(hs, " || chr(31) || ")+") IS NOT NULL")
	}
	if src.packed {
		cols = append(cols, fmt.Sprintf("(%s - %d) * %d + %s AS p", e.d.IntDiv("ev.event_time", strconv.FormatInt(src.unit, 10)), floorDiv(from, src.unit), int64(1)<<nbits, mask))
		src.base = floorDiv(from, src.unit) * src.unit
		if src.group {
			// The group-by step's events, with their values: two more
			// lists, aligned with each other.
			gp := parts[f.GroupBy.Step-1]
			cols = append(cols, f.GroupBy.text(e.d)+" AS g", "("+and(append([]string{c.typeCond(gp.typ)}, gp.conds...))+") AS gb")
		}
	} else {
		cols = append(cols, "ev.event_time AS t", mask+" AS k")
		if src.group {
			cols = append(cols, f.GroupBy.text(e.d)+" AS g")
		}
	}
	ctes := []string{c.mergesCTE()}
	if src.newU {
		ctes = append(ctes, fmt.Sprintf("fs AS (SELECT coalesce(m.into_id, u.amplitude_id) AS uid, min(u.first_seen) AS t "+
			"FROM users u LEFT JOIN m ON m.from_id = u.amplitude_id WHERE u.project_id = %d "+
			"GROUP BY coalesce(m.into_id, u.amplitude_id) HAVING min(u.first_seen) >= %d AND min(u.first_seen) < %d)", p.ID, from, to))
	}
	join := ""
	if src.canon {
		join = " LEFT JOIN m ON m.from_id = ev.amplitude_id"
	}
	ctes = append(ctes, "e AS (SELECT "+strings.Join(cols, ", ")+" FROM events ev"+join+" WHERE "+and(where)+")")
	sel := []string{"e.uid"}
	key := []string{"e.uid"}
	if src.hold {
		sel = append(sel, "e.h")
		key = append(key, "e.h")
	}
	if src.newU {
		sel = append(sel, "fs.t")
		key = append(key, "fs.t")
	}
	join = ""
	if src.newU {
		join = " JOIN fs ON fs.uid = e.uid"
	}
	var q string
	if src.packed {
		sel = append(sel, listText(e.d, "e.p"))
		if src.group {
			sel = append(sel, listTextIf(e.d, "e.p", "e.gb"), listTextIf(e.d, "e.g", "e.gb"))
		}
		q = "SELECT " + strings.Join(sel, ", ") + " FROM e" + join + " GROUP BY " + strings.Join(key, ", ")
	} else {
		sel = append(sel, "e.t", "e.k")
		if src.group {
			sel = append(sel, "e.g")
		}
		q = "SELECT " + strings.Join(sel, ", ") + " FROM e" + join + " ORDER BY " + strings.Join(append(key, "e.t"), ", ")
	}
	src.with = "WITH " + strings.Join(ctes, ",\n")
	src.end = end
	src.sql = "/* query.Funnel */\n" + src.with + "\n" + q
	return src
}

// parseList parses a list of non-negative integers rendered as text
// ("[1, 2]" or "[1,2]") into nums, sorted: packed values sort by time,
// then mask.
func parseList(s string, nums []int64) ([]int64, error) {
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
				nums = append(nums, x)
			}
			x, inNum = 0, false
		case '[', ' ':
		default:
			return nums, fmt.Errorf("funnel: unexpected %q in list text", c)
		}
	}
	return nums, nil
}

// unpack turns sorted packed values into items.
func unpack(nums []int64, base, unit int64, nbits uint, out []item) []item {
	low := int64(1)<<nbits - 1
	for _, x := range nums {
		out = append(out, item{t: base + (x>>nbits)*unit, mask: uint64(x & low)})
	}
	return out
}

// foldFunnel streams the events of src into kernel workers and returns
// the merged accumulator and the group labels by id.
func (e *Engine) foldFunnel(ctx context.Context, k *funnelKernel, src funnelSource, project int64, bounds func(first int64) (int64, int64)) (*funnelAcc, []string, error) {
	var mg *merges
	if !src.canon {
		var err error
		if mg, err = e.loadMerges(ctx, project); err != nil {
			return nil, nil, err
		}
	}
	if acc, ok, err := e.foldFed(ctx, k, src, mg, bounds); ok || err != nil {
		return acc, nil, err
	}
	rows, err := e.q.QueryContext(ctx, src.sql)
	if err != nil {
		return nil, nil, fmt.Errorf("funnel: %w", err)
	}
	defer rows.Close()

	nw := max(runtime.GOMAXPROCS(0), 1)
	jobs := make(chan []seqJob, 2*nw)
	workers := make([]*worker, nw)
	in := &interner{ids: map[string]int32{}}
	errs := make([]error, nw)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = k.newWorker()
		wg.Add(1)
		go func(w *worker, errp *error) {
			defer wg.Done()
			var buf []item
			var nums, ps []int64
			for batch := range jobs {
				for _, j := range batch {
					u := userSeq{items: j.items, uid: j.uid}
					if src.packed {
						nums = nums[:0]
						for _, text := range j.texts {
							var err error
							nums, err = parseList(text, nums)
							if err != nil && *errp == nil {
								*errp = err
							}
						}
						slices.Sort(nums)
						buf = unpack(nums, src.base, src.unit, src.nbits, buf[:0])
						if src.group {
							var err error
							if ps, err = assignGroups(k, buf, nums, j.groups, in, ps); err != nil && *errp == nil {
								*errp = err
							}
						}
						u.items = buf
					}
					u.entryLo, u.entryHi = bounds(j.first)
					w.fold(&u)
				}
			}
		}(workers[i], &errs[i])
	}
	scanErr := e.scanFunnel(rows, src, mg, jobs, func(g sql.NullString) int32 {
		if !g.Valid {
			return in.id(None)
		}
		return in.id(g.String)
	})
	close(jobs)
	wg.Wait()
	if scanErr != nil {
		return nil, nil, scanErr
	}
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	acc := workers[0].acc
	for _, w := range workers[1:] {
		acc.merge(w.acc)
	}
	return acc, in.labels, nil
}

// jobBatch is the number of users sent to a worker at once.
const jobBatch = 128

// merges is the project's merged-ID mapping, for statements that read
// raw Amplitude IDs.
type merges struct {
	into    map[int64]int64 // from_id → into_id
	targets map[int64]bool  // into_ids
}

func (m *merges) canonical(id int64) (int64, bool) {
	if c, ok := m.into[id]; ok {
		return c, true
	}
	return id, m.targets[id]
}

// loadMerges reads the merges that are not undone.
func (e *Engine) loadMerges(ctx context.Context, project int64) (*merges, error) {
	rows, err := e.q.QueryContext(ctx, fmt.Sprintf("/* query.Funnel.merges */\nSELECT from_id, into_id FROM merges WHERE project_id = %d AND NOT undone", project))
	if err != nil {
		return nil, fmt.Errorf("merges: %w", err)
	}
	defer rows.Close()
	m := &merges{into: map[int64]int64{}, targets: map[int64]bool{}}
	for rows.Next() {
		var from, into int64
		if err := rows.Scan(&from, &into); err != nil {
			return nil, fmt.Errorf("merges: scan: %w", err)
		}
		m.into[from] = into
		m.targets[into] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("merges: %w", err)
	}
	return m, nil
}

func (e *Engine) scanFunnel(rows *sql.Rows, src funnelSource, mg *merges, jobs chan<- []seqJob, intern func(sql.NullString) int32) error {
	var (
		uid, first int64
		hold       sql.NullString
		text       string
		t, mask    int64
		g          sql.NullString
	)
	dest := []any{&uid}
	if src.hold {
		dest = append(dest, &hold)
	}
	if src.newU {
		dest = append(dest, &first)
	}
	var gp, gg sql.NullString
	if src.packed {
		dest = append(dest, &text)
		if src.group {
			dest = append(dest, &gp, &gg)
		}
	} else {
		dest = append(dest, &t, &mask)
		if src.group {
			dest = append(dest, &g)
		}
	}
	batch := make([]seqJob, 0, jobBatch)
	send := func(j seqJob) {
		batch = append(batch, j)
		if len(batch) == jobBatch {
			jobs <- batch
			batch = make([]seqJob, 0, jobBatch)
		}
	}
	// Users with merged ids are gathered here, by canonical id and held
	// value, and sent at the end.
	type key struct {
		uid  int64
		hold string
	}
	pending := map[key]*seqJob{}
	var order []key
	gather := func(j seqJob, h string) bool {
		if mg == nil {
			return false
		}
		c, merged := mg.canonical(j.uid)
		if !merged {
			return false
		}
		k := key{c, h}
		p := pending[k]
		if p == nil {
			p = &seqJob{uid: c, first: j.first}
			pending[k] = p
			order = append(order, k)
		}
		p.texts = append(p.texts, j.texts...)
		p.groups = append(p.groups, j.groups...)
		p.items = append(p.items, j.items...)
		return true
	}
	var cur seqJob
	curHold := ""
	have := false
	flushCur := func() {
		if have && !gather(cur, curHold) {
			send(cur)
		}
		have = false
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("funnel: scan: %w", err)
		}
		if src.packed {
			j := seqJob{uid: uid, first: first, texts: []string{text}}
			if gp.Valid && gg.Valid {
				j.groups = [][2]string{{gp.String, gg.String}}
			}
			if !gather(j, hold.String) {
				send(j)
			}
			continue
		}
		if !have || cur.uid != uid || (src.hold && curHold != hold.String) {
			flushCur()
			cur = seqJob{uid: uid, first: first}
			curHold = hold.String
			have = true
		}
		it := item{t: t, mask: uint64(mask)}
		if src.group {
			it.g = intern(g)
		}
		cur.items = append(cur.items, it)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	flushCur()
	for _, k := range order {
		send(*pending[k])
	}
	if len(batch) > 0 {
		jobs <- batch
	}
	return nil
}

// Funnel runs a funnel chart for project p; now anchors relative ranges
// (zero means the current time).
func (e *Engine) Funnel(ctx context.Context, p Project, f *Funnel, now time.Time) (*FunnelResult, error) {
	ws := weekday(f.WeekStart)
	fr, err := newFrame(p, f.Range, f.Interval, ws, now)
	if err != nil {
		return nil, err
	}
	loc, sp, b := fr.loc, fr.span, fr.b
	starts := make([]int64, len(b.starts))
	for i, s := range b.starts {
		starts[i] = s.UnixMilli()
	}
	from, to := sp.From.UnixMilli(), sp.To.UnixMilli()
	res := &FunnelResult{XValues: make([]string, b.n()), Series: []FunnelSeries{}}
	for i := range res.XValues {
		res.XValues[i] = b.label(i)
	}
	for i := range f.Steps {
		res.Steps = append(res.Steps, f.stepLabel(i))
	}
	segs := f.Segments
	if len(segs) == 0 {
		segs = []Segment{{Name: "All Users", Users: "any"}}
	}
	bounds := func(int64) (int64, int64) { return from, to }
	if f.NewUsers == "first_day" {
		bounds = func(first int64) (int64, int64) {
			d := time.UnixMilli(first).In(loc)
			day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
			return max(from, day.UnixMilli()), min(to, day.AddDate(0, 0, 1).UnixMilli())
		}
	}
	k := newFunnelKernel(f, starts)
	for si := range segs {
		seg := &segs[si]
		src := e.funnelSQL(p, f, seg, b, from, to)
		acc, labels, err := e.foldFunnel(ctx, k, src, p.ID, bounds)
		if err != nil {
			return nil, err
		}
		if !k.grouped {
			acc.group(0)
		}
		res.Series = append(res.Series, funnelSeries(f, k, acc, labels, si, seg, len(segs) > 1)...)
	}
	return res, nil
}

// funnelSeries orders the groups of one segment (largest entry count
// first, then label), keeps GroupLimit of them and renders them.
func funnelSeries(f *Funnel, k *funnelKernel, acc *funnelAcc, labels []string, si int, seg *Segment, named bool) []FunnelSeries {
	type ent struct {
		id    int32
		label string
		g     *gacc
	}
	var ents []ent
	for id, g := range acc.groups {
		l := ""
		if k.grouped {
			if id == didNotReach {
				l = "(did not reach step " + strconv.Itoa(k.gStep+1) + ")"
			} else {
				l = labels[id]
			}
		}
		ents = append(ents, ent{id, l, g})
	}
	sortEnts := func(a, b ent) int {
		if a.g.counts[0] != b.g.counts[0] {
			if a.g.counts[0] > b.g.counts[0] {
				return -1
			}
			return 1
		}
		return strings.Compare(a.label, b.label)
	}
	slices.SortFunc(ents, sortEnts)
	if len(ents) > f.GroupLimit {
		ents = ents[:f.GroupLimit]
	}
	segName := seg.Name
	if segName == "" {
		segName = "Segment " + strconv.Itoa(si+1)
	}
	var out []FunnelSeries
	for _, x := range ents {
		s := x.g.series(k.n)
		s.Segment = si
		parts := []string{}
		if named || !k.grouped {
			parts = append(parts, segName)
		}
		if k.grouped {
			s.Group = []string{x.label}
			parts = append(parts, x.label)
		}
		s.Label = strings.Join(parts, " · ")
		out = append(out, s)
	}
	return out
}
