package query

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// The randomized tests check the funnel and retention kernels against
// reference implementations that follow the definitions literally:
// every candidate sequence is enumerated, every (start, return) pair
// compared. They are slow and obviously correct; the kernels are fast.

// refEvent is a raw event of a generated user.
type refEvent struct {
	t    int64
	typ  int // 0..4: steps A B C D, 5: exclusion X, 6: unrelated
	prop bool
}

const refBase = int64(1_704_067_200_000) // 2024-01-01T00:00:00Z

// refFunnel is the generated funnel.
type refFunnel struct {
	steps  []int // event type of each step
	filter []bool
	order  string
	window int64
	second bool
	excl   []exclRange // over 0-based steps; bits unused
	from   int64
	to     int64
}

func (f *refFunnel) mask(e refEvent) uint64 {
	var m uint64
	for k, typ := range f.steps {
		if e.typ == typ && (!f.filter[k] || e.prop) {
			m |= 1 << uint(k)
		}
	}
	for r := range f.excl {
		if e.typ == 5 {
			m |= 1 << uint(len(f.steps)+r)
		}
	}
	return m
}

// refOrder is the definition's event order: by time unit, then the
// lowest step matched (unrelated last), then mask; in second resolution
// one event per (second, mask).
func (f *refFunnel) refOrder(evs []refEvent) []item {
	n := len(f.steps)
	var its []item
	for _, e := range evs {
		m := f.mask(e)
		if m == 0 && f.order != OrderExact {
			continue
		}
		t := e.t
		if f.second {
			t = t / 1000 * 1000 // second resolution: whole seconds
		}
		its = append(its, item{t: t, mask: m})
	}
	unit := func(t int64) int64 {
		if f.second {
			return floorDiv(t, 1000)
		}
		return t
	}
	rank := func(m uint64) int {
		for k := 0; k < n; k++ {
			if m&(1<<uint(k)) != 0 {
				return k
			}
		}
		return 64
	}
	sort.SliceStable(its, func(i, j int) bool {
		a, b := its[i], its[j]
		if unit(a.t) != unit(b.t) {
			return unit(a.t) < unit(b.t)
		}
		if rank(a.mask) != rank(b.mask) {
			return rank(a.mask) < rank(b.mask)
		}
		if a.mask != b.mask {
			return a.mask < b.mask
		}
		return a.t < b.t
	})
	if !f.second {
		return its
	}
	seen := map[[2]int64]bool{}
	var out []item
	for _, it := range its {
		k := [2]int64{unit(it.t), int64(it.mask)}
		// Only adjacent duplicates are merged: equal (second, mask) events
		// are adjacent after the sort.
		if len(out) > 0 && seen[k] && unit(out[len(out)-1].t) == k[0] && out[len(out)-1].mask == it.mask {
			continue
		}
		seen[k] = true
		out = append(out, it)
	}
	return out
}

// refLevel returns the longest valid sequence entering at s.
func (f *refFunnel) refLevel(its []item, s int) int {
	n := len(f.steps)
	if f.order == OrderAny {
		var done uint64
		all := uint64(1)<<uint(n) - 1
		for j := s; j < len(its) && its[j].t <= its[s].t+f.window; j++ {
			if j > s && its[j].mask>>uint(n) != 0 && len(f.excl) > 0 {
				break
			}
			done |= its[j].mask & all
		}
		lvl := 0
		for lvl < n && done&(1<<uint(lvl)) != 0 {
			lvl++
		}
		return lvl
	}
	best := 0
	seq := []int{s}
	var dfs func()
	dfs = func() {
		k := len(seq)
		best = max(best, k)
		if k == n {
			return
		}
		prev := seq[k-1]
		for j := prev + 1; j < len(its); j++ {
			if its[j].mask&(1<<uint(k)) == 0 || its[j].t-its[s].t > f.window {
				continue
			}
			if f.order == OrderExact {
				ok := true
				for i := prev + 1; i < j; i++ {
					si, sp, sj := floorDiv(its[i].t, 1000), floorDiv(its[prev].t, 1000), floorDiv(its[j].t, 1000)
					if si != sp && si != sj {
						ok = false
					}
				}
				if !ok {
					continue
				}
			}
			seq = append(seq, j)
			if f.valid(its, seq) {
				dfs()
			}
			seq = seq[:len(seq)-1]
		}
	}
	dfs()
	return best
}

// valid checks the exclusion ranges: no exclusion event between the
// step-a event and any later step event of the range.
func (f *refFunnel) valid(its []item, seq []int) bool {
	for _, r := range f.excl {
		if r.a >= len(seq) {
			continue
		}
		for k := r.a + 1; k <= r.b && k < len(seq); k++ {
			for i := seq[r.a] + 1; i < seq[k]; i++ {
				if its[i].mask>>uint(len(f.steps)) != 0 {
					return false
				}
			}
		}
	}
	return true
}

// refUser returns the user's level and entry index (longest, then
// earliest) and the level per entry day.
func (f *refFunnel) refUser(evs []refEvent) (int, int64, map[int64]int) {
	its := f.refOrder(evs)
	best, entry := 0, int64(-1)
	days := map[int64]int{}
	for s := range its {
		if its[s].t < f.from || its[s].t >= f.to {
			continue
		}
		if f.order == OrderAny {
			if its[s].mask&(1<<uint(len(f.steps))-1) == 0 {
				continue
			}
		} else if its[s].mask&1 == 0 {
			continue
		}
		l := f.refLevel(its, s)
		if l > best {
			best, entry = l, its[s].t
		}
		d := floorDiv(its[s].t-refBase, 86_400_000)
		days[d] = max(days[d], l)
	}
	return best, entry, days
}

func genUser(r *rand.Rand) []refEvent {
	n := r.IntN(14)
	evs := make([]refEvent, n)
	t := refBase + r.Int64N(3*86_400_000)
	for i := range evs {
		switch r.IntN(4) {
		case 0:
			t += r.Int64N(1000) // same second, often
		case 1:
			t += r.Int64N(60_000)
		case 2:
			t += r.Int64N(6 * 3_600_000)
		default:
			t += r.Int64N(2 * 86_400_000)
		}
		typ := r.IntN(4)
		switch r.IntN(7) {
		case 0:
			typ = 5
		case 1:
			typ = 6
		}
		evs[i] = refEvent{t: t, typ: typ, prop: r.IntN(2) == 0}
	}
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	return evs
}

func genFunnel(r *rand.Rand) (*Funnel, *refFunnel) {
	n := 2 + r.IntN(3)
	f := &Funnel{Type: TypeFunnel, Version: FunnelVersion, Range: Range{Start: "2024-01-01", End: "2024-01-03"}}
	rf := &refFunnel{from: refBase, to: refBase + 3*86_400_000}
	for k := 0; k < n; k++ {
		typ := r.IntN(4)
		if r.IntN(3) > 0 {
			typ = k % 4 // mostly distinct steps; sometimes repeated types
		}
		filt := r.IntN(4) == 0
		rf.steps = append(rf.steps, typ)
		rf.filter = append(rf.filter, filt)
		f.Steps = append(f.Steps, FunnelStep{EventType: fmt.Sprint(typ)})
	}
	f.Order = []string{OrderThis, OrderThis, OrderExact, OrderAny}[r.IntN(4)]
	f.WindowSeconds = []int64{1, 60, 3600, 86400, 3 * 86400}[r.IntN(5)]
	f.Resolution = []string{"second", "millisecond"}[r.IntN(2)]
	switch r.IntN(3) {
	case 1:
		f.Exclusions = []Exclusion{{EventType: "X"}}
	case 2:
		a := 1 + r.IntN(n-1)
		f.Exclusions = []Exclusion{{EventType: "X", From: a, To: a + 1}}
	}
	if n >= 3 && r.IntN(2) == 0 {
		// One optional middle step, unless an exclusion range begins or
		// ends there.
		o := 2 + r.IntN(n-2)
		ok := true
		for _, x := range f.Exclusions {
			ok = ok && x.From != o && x.To != o
		}
		f.Steps[o-1].Optional = ok
	}
	if err := f.Validate(); err != nil {
		panic(err)
	}
	rf.order, rf.window, rf.second = f.Order, f.window(), f.Resolution == "second"
	for _, x := range f.Exclusions {
		rf.excl = append(rf.excl, exclRange{a: x.From - 1, b: x.To - 1})
	}
	return f, rf
}

// without is the reference funnel without its optional step o (0-based):
// the step removed, exclusion ranges over it shortened, and the events
// that match step o only dropped (they neither enter nor separate steps).
func (f *refFunnel) without(o int, evs []refEvent) (*refFunnel, []refEvent) {
	g := *f
	g.steps = slices.Delete(slices.Clone(f.steps), o, o+1)
	g.filter = slices.Delete(slices.Clone(f.filter), o, o+1)
	g.excl = nil
	for _, x := range f.excl {
		if x.a > o {
			x.a--
		}
		if x.b > o {
			x.b--
		}
		g.excl = append(g.excl, x)
	}
	var kept []refEvent
	for _, e := range evs {
		if f.mask(e) != 1<<uint(o) {
			kept = append(kept, e)
		}
	}
	return &g, kept
}

func TestFunnelKernelRandomized(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	const funnels, users = 200, 500
	var days []int64
	for d := int64(0); d <= 3; d++ {
		days = append(days, refBase+d*86_400_000)
	}
	optionals := 0
	for fi := 0; fi < funnels; fi++ {
		f, rf := genFunnel(r)
		k := newFunnelKernel(f, days)
		w := k.newWorker()
		want := make([]int64, len(f.Steps))
		wantDays := make([][]int64, 3)
		for d := range wantDays {
			wantDays[d] = make([]int64, len(f.Steps))
		}
		opt := f.optional() - 1
		// The funnel without the optional step, when there is one.
		var wantW []int64
		wantWDays := make([][]int64, 3)
		if opt >= 0 {
			wantW = make([]int64, len(f.Steps)-1)
			for d := range wantWDays {
				wantWDays[d] = make([]int64, len(f.Steps)-1)
			}
		}
		for ui := 0; ui < users; ui++ {
			evs := genUser(r)
			lvl, _, perDay := rf.refUser(evs)
			for s := 0; s < lvl; s++ {
				want[s]++
			}
			for d, l := range perDay {
				for s := 0; s < l; s++ {
					wantDays[d][s]++
				}
			}
			if opt >= 0 {
				rw, kept := rf.without(opt, evs)
				lw, _, perDayW := rw.refUser(kept)
				for s := 0; s < lw; s++ {
					wantW[s]++
				}
				for d, l := range perDayW {
					for s := 0; s < l; s++ {
						wantWDays[d][s]++
					}
				}
			}
			var its []item
			for _, e := range evs {
				if m := rf.mask(e); m != 0 || f.Order == OrderExact {
					its = append(its, item{t: e.t, mask: m})
				}
			}
			before := slices.Clone(w.acc.group(0).counts)
			w.fold(&userSeq{items: its, entryLo: rf.from, entryHi: rf.to})
			got := w.acc.group(0).counts
			for s := 0; s < len(f.Steps); s++ {
				if (got[s]-before[s] == 1) != (s < lvl) {
					t.Fatalf("funnel %d (%+v, exclusions %+v, steps %v filters %v), user %d %+v: kernel level differs from reference level %d (counts %v -> %v)",
						fi, f, f.Exclusions, rf.steps, rf.filter, ui, evs, lvl, before, got)
				}
			}
		}
		g := w.acc.group(0)
		if fi < 8 {
			t.Logf("funnel %d: order %s, window %d s, %s, exclusions %v: counts %v", fi, f.Order, f.WindowSeconds, f.Resolution, f.Exclusions, g.counts)
		}
		if !slices.Equal(g.counts, want) {
			t.Fatalf("funnel %d: counts %v, reference %v", fi, g.counts, want)
		}
		for d := range wantDays {
			if !slices.Equal(g.ot[d], wantDays[d]) {
				t.Fatalf("funnel %d day %d: over time %v, reference %v", fi, d, g.ot[d], wantDays[d])
			}
		}
		if opt < 0 {
			if g.without != nil {
				t.Fatalf("funnel %d: no optional step, yet a funnel without it", fi)
			}
			continue
		}
		optionals++
		gw := g.without
		if fi < 40 {
			t.Logf("funnel %d: order %s, optional step %d: counts %v, without it %v", fi, f.Order, opt+1, g.counts, gw.counts)
		}
		if !slices.Equal(gw.counts, wantW) {
			t.Fatalf("funnel %d (%+v, steps %v filters %v, optional %d): counts without the optional step %v, reference %v",
				fi, f, rf.steps, rf.filter, opt+1, gw.counts, wantW)
		}
		for d := range wantWDays {
			if !slices.Equal(gw.ot[d], wantWDays[d]) {
				t.Fatalf("funnel %d day %d: over time without the optional step %v, reference %v", fi, d, gw.ot[d], wantWDays[d])
			}
		}
	}
	if optionals < funnels/8 {
		t.Fatalf("only %d of %d funnels had an optional step", optionals, funnels)
	}
}
