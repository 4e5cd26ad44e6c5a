package query

import (
	"context"
	"fmt"
	"math/bits"
	"runtime"
	"strings"
)

// Unique users without a group-by (daily active users, the most common
// chart) on a store that feeds integers (IntFeeder, the DuckDB store):
// each qualifying event hands id << k | bucket to Go, which sets one bit
// per (bucket, user) in a bitmap per bucket and counts them. The SQL path
// joins every event to the merges and hashes it by (bucket, user)
// instead (docs/benchmarks.md has both over 10M demo events).
//
// Bitmaps are indexed by canonical amplitude_id, so they are dense only
// while ids are small: beyond maxFedBits bits (32 MiB per worker) the
// SQL path runs instead, as it does when an id is too large to shift.
const maxFedBits = 1 << 28

// aggregateFed is aggregate for uniques of ev and seg without groups or
// a property value; ok is false when the store cannot feed or the ids do
// not fit, and the caller runs the SQL path.
func (r *run) aggregateFed(ctx context.Context, b *buckets, ev *EventSpec, seg *Segment) (a *agg, ok bool, err error) {
	fd, can := r.e.q.(IntFeeder)
	if !can {
		return nil, false, nil
	}
	n := b.n()
	if n <= 0 {
		return nil, false, nil
	}
	k := uint(bits.Len(uint(n - 1)))
	// Without new or active users, the events' own amplitude_ids are fed
	// and merged ids are mapped here, after counting: no join per event.
	c := r.compiler(b)
	src, id := c.source(ev, seg, nil, "", true), "s.uid"
	var mg *merges
	if seg.Users == "any" && ev.EventType != EventNew {
		src, id = c.sourceCols(ev, seg, nil, "", false, []string{"ev.amplitude_id AS aid"}, nil), "s.aid"
		if mg, err = r.e.loadMerges(ctx, r.p.ID); err != nil {
			return nil, true, fmt.Errorf("segmentation: %w", err)
		}
	}
	chunks, err := fd.FeedInts(ctx, func(feed func(string) string) string {
		return "/* query.Segmentation.fed */\n" + src + "\nSELECT count(*), max(" +
			feed(fmt.Sprintf("%s * %d + s.bkt", id, int64(1)<<k)) + ") FROM s"
	})
	if err != nil {
		if ctx.Err() == nil && strings.Contains(err.Error(), "Overflow") {
			return nil, false, nil // ids too large to shift: the SQL path
		}
		return nil, true, fmt.Errorf("segmentation: %w", err)
	}
	low := int64(1)<<k - 1
	maxUID := int64(-1)
	for _, ch := range chunks {
		for _, v := range ch {
			if u := v >> k; u > maxUID {
				maxUID = u
			}
			if v < 0 || v&low >= int64(n) {
				return nil, true, fmt.Errorf("segmentation: fed value %d outside %d buckets", v, n)
			}
		}
	}
	a = newAgg()
	g := a.group(nil, n)
	if maxUID < 0 {
		return a, true, nil // no events
	}
	maxID := maxUID
	if mg != nil {
		for from, into := range mg.into {
			if from <= maxUID && into > maxID {
				maxID = into
			}
		}
	}
	words := int(maxID>>6) + 1
	if int64(words)*64*int64(n) > maxFedBits {
		return nil, false, nil
	}
	// Each worker sets bits of its share of the chunks in its own
	// bitmaps; the first worker's then take the others' (OR).
	nw := max(min(runtime.GOMAXPROCS(0), len(chunks)), 1)
	maps := make([][]uint64, nw)
	counts := make([][]int64, nw)
	parallel(nw, func(w int) {
		bm := make([]uint64, n*words)
		cnt := make([]int64, n)
		for i := w; i < len(chunks); i += nw {
			for _, v := range chunks[i] {
				bk, u := v&low, v>>k
				bm[int(bk)*words+int(u>>6)] |= 1 << (u & 63)
				cnt[bk]++
			}
		}
		maps[w], counts[w] = bm, cnt
	})
	bm, cnt := maps[0], counts[0]
	for w := 1; w < nw; w++ {
		for i, x := range maps[w] {
			bm[i] |= x
		}
		for i, c := range counts[w] {
			cnt[i] += c
		}
	}
	// A merged id's bits move to the id it merged into.
	if mg != nil {
		for from, into := range mg.into {
			if from > maxUID {
				continue
			}
			fw, fb := int(from>>6), uint64(1)<<(from&63)
			tw, tb := int(into>>6), uint64(1)<<(into&63)
			for i := range n {
				row := bm[i*words : (i+1)*words]
				if row[fw]&fb != 0 {
					row[fw] &^= fb
					row[tw] |= tb
				}
			}
		}
	}
	all := make([]uint64, words)
	var total int64
	for i := range n {
		row := bm[i*words : (i+1)*words]
		u := 0
		for j, x := range row {
			u += bits.OnesCount64(x)
			all[j] |= x
		}
		g.pts[i].uniques, g.pts[i].totals = float64(u), float64(cnt[i])
		total += cnt[i]
	}
	u := 0
	for _, x := range all {
		u += bits.OnesCount64(x)
	}
	g.all.uniques, g.all.totals = float64(u), float64(total)
	return a, true, nil
}
