package query

import (
	"math"
	"math/bits"
	"slices"
	"sort"
)

// The funnel kernel folds each (virtual) user's time-ordered step events
// into per-group step counts, transition times and distributions. It
// knows no SQL: any backend that can hand it a user's events (time, step
// mask) can feed it (funnel_fetch.go). Users are independent, so workers
// fold disjoint users into their own accumulators, merged at the end.

// item is one event of a user: its time in UTC ms and the bit mask of
// the steps (bits 0..n-1) and exclusion ranges (bits n..) it matches.
// A mask of 0 is an unrelated event (exact order only).
type item struct {
	t    int64
	mask uint64
	g    int32 // group value id (grouped funnels), else 0
}

// userSeq is one (virtual) user's events, with the entry bounds that
// apply to them (the chart range, narrowed for first-day new users).
type userSeq struct {
	items            []item
	entryLo, entryHi int64
	uid              int64 // canonical Amplitude ID (recorded in point-user mode)
}

// exclRange is one exclusion step range: 0-based steps a < b and the
// mask bits of its exclusion events.
type exclRange struct {
	a, b int
	bits uint64
}

// didNotReach is the group id of users who did not reach the group-by
// step.
const didNotReach int32 = -1

// funnelKernel is the compiled form of a funnel, shared read-only by
// the workers.
type funnelKernel struct {
	n        int
	order    string
	window   int64 // ms
	second   bool
	totals   bool
	ranges   []exclRange
	trRange  []int // per step k: the range constraining transition k-1→k, or -1
	startsAt []int // per step k: the range whose first step is k, or -1
	exclAll  uint64
	grouped  bool
	gStep    int      // 0-based group-by step
	buckets  []int64  // over-time bucket starts (ms), the last one the end
	convFrom int      // 0-based
	convTo   int      // 0-based
	stepBits []uint64 // bit of step k
	// opt is the 0-based optional step (-1 none) and sub the kernel of
	// the funnel without it, folded alongside (FunnelSeries.Without).
	opt int
	sub *funnelKernel
	// rec, when set, records the sequences of one point (pointusers_funnel.go).
	rec *funnelRec
}

func newFunnelKernel(f *Funnel, buckets []int64) *funnelKernel {
	k := &funnelKernel{
		n: len(f.Steps), order: f.Order, window: f.window(), second: f.Resolution == "second",
		totals: f.Counting == "totals", buckets: buckets,
		convFrom: f.Convert.From - 1, convTo: f.Convert.To - 1, opt: f.optional() - 1,
	}
	if k.opt >= 0 {
		k.sub = newFunnelKernel(f.withoutOptional(), buckets)
	}
	for i := 0; i < k.n; i++ {
		k.stepBits = append(k.stepBits, 1<<uint(i))
	}
	if f.GroupBy != nil {
		k.grouped, k.gStep = true, f.GroupBy.Step-1
	}
	k.trRange = slices.Repeat([]int{-1}, k.n)
	k.startsAt = slices.Repeat([]int{-1}, k.n)
	for i, x := range f.Exclusions {
		bit := uint64(1) << uint(k.n+i)
		k.exclAll |= bit
		a, b := x.From-1, x.To-1
		found := false
		for r := range k.ranges {
			if k.ranges[r].a == a && k.ranges[r].b == b {
				k.ranges[r].bits |= bit
				found = true
			}
		}
		if !found {
			k.ranges = append(k.ranges, exclRange{a: a, b: b, bits: bit})
		}
	}
	for r, x := range k.ranges {
		k.startsAt[x.a] = r
		for s := x.a + 1; s <= x.b; s++ {
			k.trRange[s] = r
		}
	}
	return k
}

// withoutOptional returns the funnel f without its optional step: the
// steps after it, and the exclusion ranges, group-by and time-to-convert
// steps naming them, move down by one (Validate keeps ranges from
// beginning or ending at the optional step).
func (f *Funnel) withoutOptional() *Funnel {
	o := f.optional()
	g := *f
	g.Steps = slices.Delete(slices.Clone(f.Steps), o-1, o)
	down := func(s int) int {
		if s > o {
			return s - 1
		}
		return s
	}
	g.Exclusions = slices.Clone(f.Exclusions)
	for i := range g.Exclusions {
		g.Exclusions[i].From, g.Exclusions[i].To = down(g.Exclusions[i].From), down(g.Exclusions[i].To)
	}
	if f.GroupBy != nil {
		gb := *f.GroupBy
		gb.Step = down(gb.Step)
		g.GroupBy = &gb
	}
	g.Convert = &StepPair{From: down(f.Convert.From), To: down(f.Convert.To)}
	return &g
}

// dropOptional appends to out the items of its for the funnel without
// the optional step: the step's mask bit removed and the bits above it
// moved down. Events that matched the optional step only are left out
// (in exact order too, so they do not separate two required steps).
func (k *funnelKernel) dropOptional(its, out []item) []item {
	low := uint64(1)<<uint(k.opt) - 1
	bit := uint64(1) << uint(k.opt)
	for _, it := range its {
		if it.mask == bit {
			continue
		}
		m := it.mask&low | (it.mask>>1)&^low
		if m == 0 && k.order != OrderExact {
			continue
		}
		it.mask = m
		out = append(out, it)
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// stepRank orders events of one time unit: those matching an earlier
// step first, unrelated and exclusion-only events last.
func stepRank(mask uint64, n int) int {
	m := mask & (1<<uint(n) - 1)
	if m == 0 {
		return 64
	}
	return bits.TrailingZeros64(m)
}

// prepare sorts a user's items by time unit, then step rank, then mask
// (spec §5.2: events of one second may be taken in either order), and in
// second resolution keeps one of the events of a second with identical
// masks, its time truncated to the second. It reuses the slice.
//
// Once second resolution has truncated every time to its second, a time
// unit is a time in both resolutions: comparing units is comparing t.
func (k *funnelKernel) prepare(its []item) []item {
	n := k.n
	if k.second {
		// Second resolution works on whole seconds (the packed feed
		// sends nothing finer).
		for i := range its {
			if r := its[i].t % 1000; r != 0 {
				its[i].t -= r
				if r < 0 {
					its[i].t -= 1000
				}
			}
		}
	}
	sorted := true
	for i := 1; i < len(its); i++ {
		a, b := its[i-1], its[i]
		if a.t < b.t {
			continue
		}
		if !less(a, b, n) {
			sorted = false
			break
		}
	}
	if !sorted {
		slices.SortStableFunc(its, func(a, b item) int {
			if less(a, b, n) {
				return -1
			}
			if less(b, a, n) {
				return 1
			}
			return 0
		})
	}
	if !k.second || len(its) == 0 {
		return its
	}
	out := its[:1]
	for _, x := range its[1:] {
		if p := &out[len(out)-1]; p.t == x.t && p.mask == x.mask && p.g == x.g {
			continue
		}
		out = append(out, x)
	}
	return out
}

// less orders the items of prepare: by time (whole units), then step
// rank, then mask.
func less(a, b item, n int) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	ra, rb := stepRank(a.mask, n), stepRank(b.mask, n)
	if ra != rb {
		return ra < rb
	}
	return a.mask < b.mask
}

// chain is one sequence through the funnel: pos[k] is the index of the
// step-k event, for k < level.
type chain struct {
	level int
	pos   []int
}

// worker holds the per-goroutine scratch space and accumulator.
type worker struct {
	k       *funnelKernel
	acc     *funnelAcc
	next    []int32 // next[s*(m+1)+i]: first index >= i matching bit group s
	m       int
	pos     []int
	best    []int
	tmp     []int
	bkt     []chain // per over-time bucket: best chain
	bpos    []int
	touched []int // the buckets of bkt with a chain, in order
	uid     int64 // the user being folded
	// sub folds the funnel without the optional step into acc's groups.
	sub    *worker
	subIts []item
}

func (k *funnelKernel) newWorker() *worker {
	w := &worker{k: k, acc: newFunnelAcc(k), pos: make([]int, k.n), best: make([]int, k.n), tmp: make([]int, k.n*k.n)}
	if k.sub != nil {
		w.sub = k.sub.newWorker()
		w.sub.acc.parent = w.acc
	}
	return w
}

// groups of the next table: the steps, then the exclusion ranges.
func (w *worker) buildNext(its []item) {
	k := w.k
	m := len(its)
	w.m = m
	g := k.n + len(k.ranges)
	need := g * (m + 1)
	if cap(w.next) < need {
		w.next = make([]int32, need)
	}
	w.next = w.next[:need]
	for s := 0; s < g; s++ {
		var bit uint64
		if s < k.n {
			bit = k.stepBits[s]
		} else {
			bit = k.ranges[s-k.n].bits
		}
		row := w.next[s*(m+1) : (s+1)*(m+1)]
		row[m] = int32(m)
		for i := m - 1; i >= 0; i-- {
			if its[i].mask&bit != 0 {
				row[i] = int32(i)
			} else {
				row[i] = row[i+1]
			}
		}
	}
}

// nextStep returns the first index >= i whose event matches step s (m if none).
func (w *worker) nextStep(s, i int) int {
	if i >= w.m {
		return w.m
	}
	return int(w.next[s*(w.m+1)+i])
}

// nextExcl returns the first index >= i with an exclusion event of range r.
func (w *worker) nextExcl(r, i int) int {
	return w.nextStep(w.k.n+r, i)
}

// fold folds one user (and, with an optional step, the user's events
// for the funnel without it).
func (w *worker) fold(u *userSeq) {
	w.fold1(u)
	if w.sub != nil {
		w.subIts = w.k.dropOptional(u.items, w.subIts[:0])
		w.sub.fold1(&userSeq{items: w.subIts, entryLo: u.entryLo, entryHi: u.entryHi, uid: u.uid})
	}
}

func (w *worker) fold1(u *userSeq) {
	k := w.k
	w.uid = u.uid
	its := k.prepare(u.items)
	u.items = its
	if len(its) == 0 {
		return
	}
	w.buildNext(its)
	stepMask := uint64(1)<<uint(k.n) - 1
	entry := func(i int) bool {
		if its[i].t < u.entryLo || its[i].t >= u.entryHi {
			return false
		}
		if k.order == OrderAny {
			return its[i].mask&stepMask != 0
		}
		return its[i].mask&1 != 0
	}
	if k.totals {
		// Attempts do not overlap: the next one enters after the events
		// of the previous one.
		for s := 0; s < len(its); {
			if !entry(s) {
				s++
				continue
			}
			lvl := w.chainFrom(its, s, w.pos)
			if lvl == 0 {
				s++
				continue
			}
			w.acc.add(w, its, s, lvl, w.pos)
			if b := bucketOf(k.buckets, its[s].t); b >= 0 {
				w.acc.addOverTime(w, its, b, lvl, w.pos)
			}
			last := s
			for j := 0; j < lvl; j++ {
				last = max(last, w.pos[j])
			}
			s = last + 1
		}
		return
	}
	nb := len(k.buckets) - 1
	if len(w.bkt) != nb {
		// Every level is 0 between users: fold1 resets the buckets it
		// touched (w.touched, in time order) when it is done.
		w.bkt = make([]chain, nb)
		w.bpos = make([]int, nb*k.n)
		for i := range w.bkt {
			w.bkt[i] = chain{pos: w.bpos[i*k.n : (i+1)*k.n]}
		}
	}
	w.touched = w.touched[:0]
	bestLvl, bestEntry := 0, -1
	b, bEnd := -1, int64(0) // the bucket of the current entry, and its end
	for s := 0; s < len(its); s++ {
		if !entry(s) {
			continue
		}
		if its[s].t >= bEnd || b < 0 {
			b = bucketOf(k.buckets, its[s].t)
			bEnd = int64(math.MaxInt64)
			if b >= 0 {
				bEnd = k.buckets[b+1]
			}
		}
		if bestLvl == k.n && (b < 0 || w.bkt[b].level == k.n) {
			continue
		}
		lvl := w.chainFrom(its, s, w.pos)
		if lvl > bestLvl {
			bestLvl, bestEntry = lvl, s
			copy(w.best, w.pos[:lvl])
		}
		if b >= 0 && lvl > w.bkt[b].level {
			if w.bkt[b].level == 0 {
				w.touched = append(w.touched, b)
			}
			w.bkt[b].level = lvl
			copy(w.bkt[b].pos, w.pos[:lvl])
		}
	}
	if bestLvl > 0 {
		w.acc.add(w, its, bestEntry, bestLvl, w.best)
	}
	for _, b := range w.touched {
		w.acc.addOverTime(w, its, b, w.bkt[b].level, w.bkt[b].pos)
		w.bkt[b].level = 0
	}
}

// bucketOf returns the index of the bucket holding t, or -1.
func bucketOf(starts []int64, t int64) int {
	i := sort.Search(len(starts), func(i int) bool { return starts[i] > t }) - 1
	if i < 0 || i >= len(starts)-1 {
		return -1
	}
	return i
}

// chainFrom computes the best sequence entering at index s into pos and
// returns its level (at least 1).
func (w *worker) chainFrom(its []item, s int, pos []int) int {
	kk := w.k
	switch kk.order {
	case OrderAny:
		return w.chainAny(its, s, pos)
	case OrderExact:
		return w.chainExact(its, s, pos)
	}
	if len(kk.ranges) == 0 {
		return w.chainGreedy(its, s, pos)
	}
	pos[0] = s
	cutoff := w.m
	if r := kk.startsAt[0]; r >= 0 {
		cutoff = w.nextExcl(r, s+1)
	}
	return w.search(its, 1, s, its[s].t+kk.window, cutoff, pos)
}

// chainGreedy is this order without exclusions: each step's earliest
// event after the previous step's (optimal: an earlier event never
// reaches fewer steps).
func (w *worker) chainGreedy(its []item, s int, pos []int) int {
	limit := its[s].t + w.k.window
	pos[0] = s
	cur := s
	for k := 1; k < w.k.n; k++ {
		j := w.nextStep(k, cur+1)
		if j >= w.m || its[j].t > limit {
			return k
		}
		pos[k] = j
		cur = j
	}
	return w.k.n
}

// search extends a this-order sequence whose step k-1 event is at
// prev, within the window (limit) and before cutoff (the first exclusion
// event after the first step of the range constraining step k, or m).
// At the first step of an exclusion range every candidate is tried, in
// order, since a later event there may escape an exclusion event;
// elsewhere the earliest candidate is optimal. It returns the best level
// (the earliest sequence among the longest), with its events in pos.
func (w *worker) search(its []item, k, prev int, limit int64, cutoff int, pos []int) int {
	kk := w.k
	if k == kk.n {
		return k
	}
	j := w.nextStep(k, prev+1)
	if j >= w.m || j >= cutoff || its[j].t > limit {
		return k
	}
	next := func(j int) int { // the cutoff of transition k→k+1
		switch {
		case k+1 >= kk.n:
			return w.m
		case kk.startsAt[k] >= 0:
			return w.nextExcl(kk.startsAt[k], j+1)
		case kk.trRange[k+1] >= 0:
			return cutoff
		}
		return w.m
	}
	if kk.startsAt[k] < 0 || k == kk.n-1 {
		pos[k] = j
		return w.search(its, k+1, j, limit, next(j), pos)
	}
	saved := w.tmp[k*kk.n : (k+1)*kk.n]
	best := 0
	for ; j < w.m && j < cutoff && its[j].t <= limit; j = w.nextStep(k, j+1) {
		pos[k] = j
		lvl := w.search(its, k+1, j, limit, next(j), pos)
		if lvl > best {
			best = lvl
			copy(saved[k:lvl], pos[k:lvl])
			if lvl == kk.n {
				break
			}
		}
	}
	copy(pos[k:best], saved[k:best])
	return best
}

// chainExact is exact order: each step's event follows the previous
// step's with nothing between but events in the same second as either
// of them. The candidates for a step are thus its events in the rest of
// the previous step's second and in the next second with events; each
// is tried in order (a later one may lead further).
func (w *worker) chainExact(its []item, s int, pos []int) int {
	kk := w.k
	pos[0] = s
	cutoff := w.m
	if r := kk.startsAt[0]; r >= 0 {
		cutoff = w.nextExcl(r, s+1)
	}
	return w.exactSearch(its, 1, s, its[s].t+kk.window, cutoff, pos)
}

func sec(t int64) int64 { return floorDiv(t, 1000) }

func (w *worker) exactSearch(its []item, k, prev int, limit int64, cutoff int, pos []int) int {
	kk := w.k
	if k == kk.n {
		return k
	}
	if kk.trRange[k] < 0 {
		cutoff = w.m
	}
	sp := sec(its[prev].t)
	end := prev + 1
	for end < w.m && sec(its[end].t) == sp {
		end++
	}
	if end < w.m {
		u := sec(its[end].t)
		for end < w.m && sec(its[end].t) == u {
			end++
		}
	}
	end = min(end, cutoff)
	bit := kk.stepBits[k]
	saved := w.tmp[k*kk.n : (k+1)*kk.n]
	best := k
	for j := prev + 1; j < end; j++ {
		if its[j].mask&bit == 0 || its[j].t > limit {
			continue
		}
		pos[k] = j
		nc := w.m
		switch {
		case k+1 >= kk.n:
		case kk.startsAt[k] >= 0:
			nc = w.nextExcl(kk.startsAt[k], j+1)
		case kk.trRange[k+1] >= 0:
			nc = cutoff
		}
		lvl := w.exactSearch(its, k+1, j, limit, nc, pos)
		if lvl > best {
			best = lvl
			copy(saved[k:lvl], pos[k:lvl])
			if lvl == kk.n {
				break
			}
		}
	}
	copy(pos[k:best], saved[k:best])
	return best
}

// chainAny is any order: the steps done within the window from the entry
// event, up to the first exclusion event; the level is the number of
// leading steps done. pos[k] is the first event of step k.
func (w *worker) chainAny(its []item, s int, pos []int) int {
	kk := w.k
	limit := its[s].t + kk.window
	all := uint64(1)<<uint(kk.n) - 1
	var done uint64
	for j := s; j < w.m && its[j].t <= limit; j++ {
		if j > s && its[j].mask&kk.exclAll != 0 {
			break
		}
		nb := its[j].mask & all &^ done
		for nb != 0 {
			b := bits.TrailingZeros64(nb)
			pos[b] = j
			nb &= nb - 1
		}
		done |= its[j].mask & all
		if done == all {
			break
		}
	}
	return bits.TrailingZeros64(^done)
}

// stepTimes returns, for a sequence, the time at which each step k was
// reached: its event's time, but no earlier than step k-1 (in any
// order, the time when steps 0..k were all done).
func (w *worker) stepTimes(its []item, lvl int, pos []int, out []int64) []int64 {
	out = out[:0]
	var done int64
	for k := 0; k < lvl; k++ {
		t := its[pos[k]].t
		if k > 0 {
			// Events of one second may be taken out of order, and any
			// order takes steps as they come: a step is reached no
			// earlier than the one before it.
			t = max(t, done)
		}
		done = t
		out = append(out, t)
	}
	return out
}
