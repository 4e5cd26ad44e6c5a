package query

import (
	"math/bits"
	"slices"
)

// gacc accumulates the funnel of one group.
type gacc struct {
	counts  []int64
	trans   [][]int64 // per step: transition time samples (ms)
	conv    []int64   // time to convert samples (ms)
	freq    []map[int64]int64
	ot      [][]int64   // per bucket, per step
	otTrans [][][]int64 // per bucket, per step: samples
	// without is the group's funnel without the optional step, if any.
	without *gacc
}

// funnelAcc accumulates a funnel by group id; each worker owns one.
type funnelAcc struct {
	k      *funnelKernel
	groups map[int32]*gacc
	times  []int64
	// parent is set on the accumulator of the funnel without the
	// optional step: its groups are the parent's groups' without.
	parent *funnelAcc
	// recs are the sequences recorded in point-user mode.
	recs []funnelOutcome
}

func newFunnelAcc(k *funnelKernel) *funnelAcc {
	return &funnelAcc{k: k, groups: map[int32]*gacc{}}
}

func newGacc(k *funnelKernel) *gacc {
	n, nb := k.n, len(k.buckets)-1
	g := &gacc{counts: make([]int64, n), trans: make([][]int64, n), freq: make([]map[int64]int64, n),
		ot: make([][]int64, nb), otTrans: make([][][]int64, nb)}
	for b := range g.ot {
		g.ot[b] = make([]int64, n)
		g.otTrans[b] = make([][]int64, n)
	}
	if k.sub != nil {
		g.without = newGacc(k.sub)
	}
	return g
}

func (a *funnelAcc) group(id int32) *gacc {
	if a.parent != nil {
		return a.parent.group(id).without
	}
	g := a.groups[id]
	if g == nil {
		g = newGacc(a.k)
		a.groups[id] = g
	}
	return g
}

// funnelRec selects the sequences recorded in point-user mode: those of
// the over-time bucket (-1: the funnel itself) reaching at least min
// steps.
type funnelRec struct {
	bucket int
	min    int
}

// funnelOutcome is one recorded sequence: its user, group, level (steps
// reached) and entry time (UTC ms).
type funnelOutcome struct {
	uid   int64
	g     int32
	level int32
	t     int64
}

// record keeps the sequence if the kernel records bucket b.
func (a *funnelAcc) record(w *worker, its []item, b, lvl int, pos []int) {
	r := a.k.rec
	if r == nil || r.bucket != b || lvl < r.min {
		return
	}
	root := a
	if a.parent != nil {
		root = a.parent
	}
	root.recs = append(root.recs, funnelOutcome{uid: w.uid, g: a.k.groupID(its, lvl, pos), level: int32(lvl), t: its[pos[0]].t})
}

// groupID is the group of a sequence: the value on its group-by step's
// event, or didNotReach.
func (k *funnelKernel) groupID(its []item, lvl int, pos []int) int32 {
	if !k.grouped {
		return 0
	}
	if lvl <= k.gStep {
		return didNotReach
	}
	return its[pos[k.gStep]].g
}

// add counts one sequence (a user's best, or one attempt) entering at
// index entry.
func (a *funnelAcc) add(w *worker, its []item, entry, lvl int, pos []int) {
	k := a.k
	a.record(w, its, -1, lvl, pos)
	g := a.group(k.groupID(its, lvl, pos))
	a.times = w.stepTimes(its, lvl, pos, a.times)
	for s := 0; s < lvl; s++ {
		g.counts[s]++
		if s > 0 {
			g.trans[s] = append(g.trans[s], a.times[s]-a.times[s-1])
			// Frequency: events of step s-1 from the entry up to step s.
			var n int64
			bit := k.stepBits[s-1]
			for j := entry; j < pos[s]; j++ {
				if its[j].mask&bit != 0 {
					n++
				}
			}
			if g.freq[s] == nil {
				g.freq[s] = map[int64]int64{}
			}
			g.freq[s][n]++
		}
	}
	if lvl > k.convTo && k.convTo > k.convFrom {
		g.conv = append(g.conv, a.times[k.convTo]-a.times[k.convFrom])
	}
}

// addOverTime counts the best sequence entering in bucket b.
func (a *funnelAcc) addOverTime(w *worker, its []item, b, lvl int, pos []int) {
	a.record(w, its, b, lvl, pos)
	g := a.group(a.k.groupID(its, lvl, pos))
	a.times = w.stepTimes(its, lvl, pos, a.times)
	for s := 0; s < lvl; s++ {
		g.ot[b][s]++
		if s > 0 {
			g.otTrans[b][s] = append(g.otTrans[b][s], a.times[s]-a.times[s-1])
		}
	}
}

// merge adds o into a.
func (a *funnelAcc) merge(o *funnelAcc) {
	for id, og := range o.groups {
		a.group(id).merge(og)
	}
	a.recs = append(a.recs, o.recs...)
}

// merge adds og into g.
func (g *gacc) merge(og *gacc) {
	if g.without != nil {
		g.without.merge(og.without)
	}
	for s := range g.counts {
		g.counts[s] += og.counts[s]
		g.trans[s] = append(g.trans[s], og.trans[s]...)
		for v, c := range og.freq[s] {
			if g.freq[s] == nil {
				g.freq[s] = map[int64]int64{}
			}
			g.freq[s][v] += c
		}
	}
	g.conv = append(g.conv, og.conv...)
	for b := range g.ot {
		for s := range g.ot[b] {
			g.ot[b][s] += og.ot[b][s]
			g.otTrans[b][s] = append(g.otTrans[b][s], og.otTrans[b][s]...)
		}
	}
}

// mean and median of samples (0 when empty); median sorts samples.
func mean(xs []int64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += float64(x)
	}
	return s / float64(len(xs))
}

// median reorders xs and returns its median (the mean of the two
// middle values for an even count).
func median(xs []int64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := len(xs) / 2
	nthElement(xs, m)
	if len(xs)%2 == 1 {
		return float64(xs[m])
	}
	// xs[:m] holds the m smallest values: the other middle value is
	// their maximum.
	return (float64(slices.Max(xs[:m])) + float64(xs[m])) / 2
}

// nthElement reorders xs so that xs[k] is the value a sort would put
// there, with no larger value before it and no smaller one after it
// (quickselect, median-of-three pivots: linear on average, where a sort
// of the millions of samples of a large funnel dominated its run time).
// After 2·log2(n) rounds without converging it sorts what is left, so no
// input makes it quadratic.
func nthElement(xs []int64, k int) {
	lo, hi := 0, len(xs)-1
	for rounds := 2 * bits.Len(uint(len(xs))); hi-lo > 16; rounds-- {
		if rounds == 0 {
			slices.Sort(xs[lo : hi+1])
			return
		}
		mid := lo + (hi-lo)/2
		a, b, c := xs[lo], xs[mid], xs[hi]
		pivot := max(min(a, b), min(max(a, b), c))
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return // j < k < i: xs[k] equals the pivot and is in place
		}
	}
	slices.Sort(xs[lo : hi+1])
}

// timeBinWidths are the automatic bin sizes of time histograms (spec
// §5.2: 1 s, 10 s, 1 min, 10 min, 1 h), then a day for long windows.
var timeBinWidths = []int64{1000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000}

// maxTimeBins is the most bins an automatic time histogram has before
// the next width is used.
const maxTimeBins = 30

// timeHistogram bins time samples (ms) with the smallest width giving at
// most maxTimeBins bins, from 0 to the largest sample.
func timeHistogram(xs []int64) Histogram {
	if len(xs) == 0 {
		return Histogram{Width: timeBinWidths[0], Bins: []Bin{}}
	}
	hi := slices.Max(xs)
	w := timeBinWidths[len(timeBinWidths)-1]
	for _, c := range timeBinWidths {
		if hi/c+1 <= maxTimeBins {
			w = c
			break
		}
	}
	nb := hi/w + 1
	h := Histogram{Width: w, Bins: make([]Bin, nb)}
	for i := range h.Bins {
		h.Bins[i] = Bin{Start: int64(i) * w, End: int64(i+1) * w}
	}
	for _, x := range xs {
		h.Bins[max(x, 0)/w].Count++
	}
	return h
}

// countHistogram turns a count distribution into bins of width 1.
func countHistogram(m map[int64]int64) Histogram {
	h := Histogram{Width: 1, Bins: []Bin{}}
	keys := make([]int64, 0, len(m))
	for v := range m {
		keys = append(keys, v)
	}
	slices.Sort(keys)
	for _, v := range keys {
		h.Bins = append(h.Bins, Bin{Start: v, End: v + 1, Count: m[v]})
	}
	return h
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// series turns a group's accumulator into its FunnelSeries.
func (g *gacc) series(n int) FunnelSeries {
	s := FunnelSeries{Counts: g.counts, Cumulative: make([]float64, n), StepByStep: make([]float64, n),
		AvgTransMs: make([]float64, n), MedianTransMs: make([]float64, n), StepTimes: make([]Histogram, n),
		StepFrequency: make([]Histogram, n)}
	for k := 0; k < n; k++ {
		s.Cumulative[k] = ratio(g.counts[k], g.counts[0])
		if k == 0 {
			s.StepByStep[k] = ratio(g.counts[0], g.counts[0])
		} else {
			s.StepByStep[k] = ratio(g.counts[k], g.counts[k-1])
		}
		s.AvgTransMs[k] = mean(g.trans[k])
		s.MedianTransMs[k] = median(g.trans[k])
		s.StepTimes[k] = timeHistogram(g.trans[k])
		s.StepFrequency[k] = countHistogram(g.freq[k])
	}
	if g.without != nil {
		ws := g.without.series(n - 1)
		s.Without = &ws
	}
	s.TimeToConvert = timeHistogram(g.conv)
	s.MedianConvertMs = median(g.conv)
	s.AvgConvertMs = mean(g.conv)
	for b := range g.ot {
		s.OverTime = append(s.OverTime, g.ot[b])
		avg, med := make([]float64, n), make([]float64, n)
		for k := 1; k < n; k++ {
			avg[k] = mean(g.otTrans[b][k])
			med[k] = median(g.otTrans[b][k])
		}
		s.OverTimeAvgTransMs = append(s.OverTimeAvgTransMs, avg)
		s.OverTimeMedianTransMs = append(s.OverTimeMedianTransMs, med)
	}
	return s
}
