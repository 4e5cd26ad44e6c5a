package query

import (
	"context"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// The fed path of the funnel kernel (docs/funnels.md). On a store that
// implements IntFeeder, each selected event becomes one integer,
// uid << shift | p (p the packed time and mask of the list feed), handed
// to Go from DuckDB's worker threads with no text and no rows. Go then
// partitions the integers by user into buckets, sorts each bucket (which
// orders it by user, then time, then mask) and folds each user's run.
// This replaces the list feed's per-user lists rendered as JSON, which
// cost ~0.6 CPU-s of the ~1.1 over 10M events.
//
// It takes funnels without group-by, held properties or new users, in
// packed form; an amplitude_id too large to shift overflows DuckDB's
// multiplication, and the list feed runs instead.

// fedBuckets is the number of partitions of the fed integers (a power of
// two): enough for the workers to balance, few enough to stay in cache.
const fedBuckets = 256

func (e *Engine) foldFed(ctx context.Context, k *funnelKernel, src funnelSource, mg *merges, bounds func(first int64) (int64, int64)) (*funnelAcc, bool, error) {
	fd, ok := e.q.(IntFeeder)
	if !ok || !src.packed || src.group || src.hold || src.newU || src.canon {
		return nil, false, nil
	}
	maxP := (floorDiv(src.end, src.unit) - floorDiv(src.base, src.unit) + 1) << src.nbits
	shift := uint(bits.Len64(uint64(maxP)))
	if shift > 56 {
		return nil, false, nil
	}
	chunks, err := fd.FeedInts(ctx, func(feed func(string) string) string {
		return "/* query.Funnel.fed */\n" + src.with + "\nSELECT count(*), max(" +
			feed(fmt.Sprintf("e.uid * %d + e.p", int64(1)<<shift)) + ") FROM e"
	})
	if err != nil {
		if ctx.Err() == nil && strings.Contains(err.Error(), "Overflow") {
			return nil, false, nil // amplitude_ids too large to pack: the list feed
		}
		return nil, true, fmt.Errorf("funnel: %w", err)
	}

	all, counts := partitionFed(chunks, shift)
	chunks = nil

	lo, hi := bounds(0)
	low := int64(1)<<src.nbits - 1
	pmask := int64(1)<<shift - 1
	nw := max(runtime.GOMAXPROCS(0), 1)
	workers := make([]*worker, nw)
	// merged[w] gathers, per worker, the events of users whose raw id
	// merged into another: canonical id → packed p values. Their runs
	// are folded once every bucket is done.
	merged := make([]map[int64][]int64, nw)
	fold := func(w *worker, uid int64, ps []int64, buf []item) []item {
		buf = buf[:0]
		for _, p := range ps {
			buf = append(buf, item{t: src.base + (p>>src.nbits)*src.unit, mask: uint64(p & low)})
		}
		u := userSeq{items: buf, entryLo: lo, entryHi: hi, uid: uid}
		w.fold(&u)
		return buf
	}
	var nextBucket atomic.Int64
	parallel(nw, func(wi int) {
		w := k.newWorker()
		workers[wi] = w
		mine := map[int64][]int64{}
		merged[wi] = mine
		var (
			buf []item
			tmp []int64
			cnt []int32
		)
		for {
			b := int(nextBucket.Add(1) - 1)
			if b >= fedBuckets {
				return
			}
			xs := all[counts[b]:counts[b+1]]
			tmp, cnt = sortFedBucket(xs, shift, tmp, cnt)
			for i := 0; i < len(xs); {
				uid := xs[i] >> shift
				j := i
				for j < len(xs) && xs[j]>>shift == uid {
					j++
				}
				run := xs[i:j]
				i = j
				if mg != nil {
					if c, ok := mg.canonical(uid); ok {
						ps := mine[c]
						for _, x := range run {
							ps = append(ps, x&pmask)
						}
						mine[c] = ps
						continue
					}
				}
				// Strip the uid in place: the run is the user's p values.
				for r, x := range run {
					run[r] = x & pmask
				}
				buf = fold(w, uid, run, buf)
			}
		}
	})

	// Users with merged ids: gather each canonical user's events from
	// every worker, then fold them, split among the workers.
	for _, m := range merged[1:] {
		for c, ps := range m {
			merged[0][c] = append(merged[0][c], ps...)
		}
	}
	users := make([]int64, 0, len(merged[0]))
	for c := range merged[0] {
		users = append(users, c)
	}
	slices.Sort(users)
	parallel(nw, func(wi int) {
		var buf []item
		for _, c := range users[wi*len(users)/nw : (wi+1)*len(users)/nw] {
			ps := merged[0][c]
			slices.Sort(ps)
			buf = fold(workers[wi], c, ps, buf)
		}
	})
	acc := workers[0].acc
	for _, w := range workers[1:] {
		acc.merge(w.acc)
	}
	return acc, true, nil
}

// partitionFed moves the fed integers into one slice partitioned by the
// low bits of the user id (ids are dense, so the buckets come out even):
// bucket b is all[counts[b]:counts[b+1]]. The chunks are split among
// the workers, each counting its share per bucket and then scattering
// it to its own offsets (a parallel radix partition).
func partitionFed(chunks [][]int64, shift uint) (all []int64, counts [fedBuckets + 1]int) {
	nw := max(min(runtime.GOMAXPROCS(0), len(chunks)), 1)
	hist := make([][fedBuckets]int, nw)
	part := func(w int) [][]int64 { return chunks[w*len(chunks)/nw : (w+1)*len(chunks)/nw] }
	parallel(nw, func(w int) {
		h := &hist[w]
		for _, c := range part(w) {
			for _, x := range c {
				h[(x>>shift)&(fedBuckets-1)]++
			}
		}
	})
	// Offsets: bucket-major, then worker, so every bucket is contiguous.
	n := 0
	for b := range fedBuckets {
		counts[b] = n
		for w := range nw {
			c := hist[w][b]
			hist[w][b] = n
			n += c
		}
	}
	counts[fedBuckets] = n
	all = make([]int64, n)
	parallel(nw, func(w int) {
		next := &hist[w]
		for _, c := range part(w) {
			for _, x := range c {
				b := (x >> shift) & (fedBuckets - 1)
				all[next[b]] = x
				next[b]++
			}
		}
	})
	return all, counts
}

// parallel runs f(0..n-1) on n goroutines and waits.
func parallel(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

// sortFedBucket sorts one bucket of fed integers (uid << shift | p, all
// with the same low uid bits). The uids of a bucket are dense, so it
// first places the values by uid with a counting sort, then sorts each
// user's short run: n·log(run) comparisons instead of n·log(n). Sparse
// buckets fall back to a plain sort. tmp and cnt are scratch, returned
// for reuse.
func sortFedBucket(xs []int64, shift uint, tmp []int64, cnt []int32) ([]int64, []int32) {
	if len(xs) < 64 {
		slices.Sort(xs)
		return tmp, cnt
	}
	low := uint(bits.Len(fedBuckets - 1))
	key := func(x int64) int64 { return x >> shift >> low }
	lo, hi := key(xs[0]), key(xs[0])
	for _, x := range xs[1:] {
		k := key(x)
		lo, hi = min(lo, k), max(hi, k)
	}
	span := hi - lo + 1
	if span > int64(2*len(xs)+1024) {
		slices.Sort(xs)
		return tmp, cnt
	}
	cnt = slices.Grow(cnt[:0], int(span)+1)[:span+1]
	clear(cnt)
	for _, x := range xs {
		cnt[key(x)-lo+1]++
	}
	for i := 1; i < len(cnt); i++ {
		cnt[i] += cnt[i-1]
	}
	tmp = slices.Grow(tmp[:0], len(xs))[:len(xs)]
	for _, x := range xs {
		k := key(x) - lo
		tmp[cnt[k]] = x
		cnt[k]++
	}
	copy(xs, tmp)
	// cnt[k] is now the end of user k's run.
	start := int32(0)
	for _, end := range cnt[:span] {
		if end-start > 1 {
			sortRun(xs[start:end])
		}
		start = end
	}
	return tmp, cnt
}

// sortRun sorts one user's values. They arrive nearly sorted (DuckDB
// scans row groups in insertion order, which is roughly time order, and
// the counting sort is stable), so an insertion sort does it in about
// one pass; it gives up after a few moves per value and leaves the rest
// to pdqsort, so no input makes it quadratic.
func sortRun(xs []int64) {
	budget := 8 * len(xs)
	for i := 1; i < len(xs); i++ {
		x := xs[i]
		j := i
		for j > 0 && xs[j-1] > x {
			xs[j] = xs[j-1]
			j--
		}
		xs[j] = x
		if budget -= i - j; budget < 0 {
			slices.Sort(xs)
			return
		}
	}
}
