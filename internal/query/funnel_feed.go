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

	// Partition by the low bits of the user id (ids are dense).
	var counts [fedBuckets + 1]int
	n := 0
	for _, c := range chunks {
		n += len(c)
		for _, x := range c {
			counts[(x>>shift)&(fedBuckets-1)+1]++
		}
	}
	for i := 1; i <= fedBuckets; i++ {
		counts[i] += counts[i-1]
	}
	all := make([]int64, n)
	next := counts
	for _, c := range chunks {
		for _, x := range c {
			b := (x >> shift) & (fedBuckets - 1)
			all[next[b]] = x
			next[b]++
		}
	}
	chunks = nil

	lo, hi := bounds(0)
	low := int64(1)<<src.nbits - 1
	pmask := int64(1)<<shift - 1
	nw := max(runtime.GOMAXPROCS(0), 1)
	workers := make([]*worker, nw)
	var (
		nextBucket atomic.Int64
		mu         sync.Mutex
		pending    = map[int64][]int64{} // merged users: canonical id → packed p values
		order      []int64
		wg         sync.WaitGroup
	)
	for wi := range workers {
		w := k.newWorker()
		workers[wi] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []item
			for {
				b := int(nextBucket.Add(1) - 1)
				if b >= fedBuckets {
					return
				}
				xs := all[counts[b]:counts[b+1]]
				slices.Sort(xs)
				for i := 0; i < len(xs); {
					uid := xs[i] >> shift
					j := i
					for j < len(xs) && xs[j]>>shift == uid {
						j++
					}
					run := xs[i:j]
					i = j
					if mg != nil {
						if c, merged := mg.canonical(uid); merged {
							mu.Lock()
							if _, ok := pending[c]; !ok {
								order = append(order, c)
							}
							for _, x := range run {
								pending[c] = append(pending[c], x&pmask)
							}
							mu.Unlock()
							continue
						}
					}
					buf = buf[:0]
					for _, x := range run {
						p := x & pmask
						buf = append(buf, item{t: src.base + (p>>src.nbits)*src.unit, mask: uint64(p & low)})
					}
					u := userSeq{items: buf, entryLo: lo, entryHi: hi, uid: uid}
					w.fold(&u)
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(order)
	for _, c := range order {
		ps := pending[c]
		slices.Sort(ps)
		u := userSeq{items: unpack(ps, src.base, src.unit, src.nbits, nil), entryLo: lo, entryHi: hi, uid: c}
		workers[0].fold(&u)
	}
	acc := workers[0].acc
	for _, w := range workers[1:] {
		acc.merge(w.acc)
	}
	return acc, true, nil
}
