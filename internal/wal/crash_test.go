package wal

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestCrashRecovery crashes a log at many random moments (including during
// segment rolls and during recovery itself) and checks that after reopening
// every acknowledged record is present exactly once and in order, and that
// the log holds nothing but whole, valid records.
func TestCrashRecovery(t *testing.T) {
	const (
		seeds   = 300
		writers = 4
		each    = 60
	)
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			fsys := newMemFS(seed)
			opts := Options{Dir: "/wal", FS: fsys, SegmentSize: int64(300 + rng.IntN(3000))}
			l := mustOpen(t, opts)
			fsys.mu.Lock()
			fsys.crashAt = fsys.ops + 1 + rng.IntN(700)
			fsys.mu.Unlock()

			// acked[g] counts the records of writer g acknowledged before
			// the crash image was taken.
			var acked [writers]int
			var wg sync.WaitGroup
			for g := range writers {
				wg.Go(func() {
					for i := range each {
						if _, err := l.Append(t.Context(), testRecord(g, i)); err != nil {
							t.Errorf("Append: %v", err)
							return
						}
						if fsys.crashed() {
							return
						}
						acked[g] = i + 1
					}
				})
			}
			wg.Wait()
			mustClose(t, l)
			img := fsys.snapshot
			if img == nil {
				img = fsys.crashImage()
			}

			// Reopen, possibly crashing again during recovery.
			img.crashAt = img.ops + 1 + rng.IntN(8)
			l, _ = openRecording(t, Options{Dir: "/wal", FS: img, SegmentSize: opts.SegmentSize})
			checkCrashLog(t, l, acked[:])
			mustClose(t, l)
			img2 := img.snapshot
			if img2 == nil {
				img2 = img.crashImage()
			}
			l, _ = openRecording(t, Options{Dir: "/wal", FS: img2, SegmentSize: opts.SegmentSize})
			counts2 := checkCrashLog(t, l, acked[:])
			// The repaired log takes appends, and reopens without reports.
			for g := range writers {
				if _, err := l.Append(t.Context(), testRecord(g, counts2[g])); err != nil {
					t.Fatal(err)
				}
				counts2[g]++
			}
			mustClose(t, l)
			l, reports := openRecording(t, Options{Dir: "/wal", FS: img2, SegmentSize: opts.SegmentSize})
			defer mustClose(t, l)
			if len(*reports) != 0 {
				t.Fatalf("reports on a repaired log: %v", *reports)
			}
			final := checkCrashLog(t, l, counts2[:])
			if final != counts2 {
				t.Fatalf("after repair and append: %v, want %v", final, counts2)
			}
		})
	}
}

// checkCrashLog reads l from the start and checks that it holds whole
// testRecords, that writer g's records are 0, 1, 2, ... in order, and that
// at least acked[g] of them are there. It returns how many each writer has.
func checkCrashLog(t *testing.T, l *Log, acked []int) [4]int {
	t.Helper()
	var next [4]int
	var pos uint64
	for _, e := range readAll(t, l, 0) {
		g, i, err := parseTestRecord(e.rec)
		if err != nil {
			t.Fatal(err)
		}
		if g >= len(next) || i != next[g] {
			t.Fatalf("writer %d: record %d, want %d", g, i, next[g])
		}
		next[g]++
		pos += uint64(frameSize + len(e.rec))
		if e.end != pos {
			t.Fatalf("record ends at %d, want %d", e.end, pos)
		}
	}
	if pos != l.Durable() {
		t.Fatalf("records end at %d, Durable is %d", pos, l.Durable())
	}
	for g, n := range acked {
		if next[g] < n {
			t.Fatalf("writer %d: %d records survived, %d were acknowledged", g, next[g], n)
		}
	}
	return next
}
