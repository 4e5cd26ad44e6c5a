package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// fsCase names a file system to run a test against.
type fsCase struct {
	name string
	fs   func(t *testing.T) (FS, string)
}

var fsCases = []fsCase{
	{"os", func(t *testing.T) (FS, string) { return OSFS{}, t.TempDir() }},
	{"mem", func(t *testing.T) (FS, string) { return newMemFS(1), "/wal" }},
}

func TestAppendCloseReopenRead(t *testing.T) {
	for _, fc := range fsCases {
		t.Run(fc.name, func(t *testing.T) {
			fsys, dir := fc.fs(t)
			opts := Options{Dir: dir, FS: fsys, SegmentSize: 1 << 10}
			l := mustOpen(t, opts)
			recs := [][]byte{{}, []byte("a"), bytes.Repeat([]byte("xyz"), 1000), []byte("last")}
			var ends []uint64
			var pos uint64
			buf := make([]byte, 0, 4096)
			for _, rec := range recs {
				buf = append(buf[:0], rec...) // Append must copy: reuse buf
				end, err := l.Append(t.Context(), buf)
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				pos += uint64(frameSize + len(rec))
				if end != pos {
					t.Fatalf("Append end = %d, want %d", end, pos)
				}
				ends = append(ends, end)
				clear(buf[:cap(buf)])
			}
			if got := l.Durable(); got != pos {
				t.Fatalf("Durable = %d, want %d", got, pos)
			}
			mustClose(t, l)
			if _, err := l.Append(t.Context(), []byte("late")); !errors.Is(err, ErrClosed) {
				t.Fatalf("Append after Close: err = %v, want ErrClosed", err)
			}

			var reports int
			opts.OnCorruption = func(string, int64, error) { reports++ }
			l = mustOpen(t, opts)
			defer mustClose(t, l)
			if got := l.Durable(); got != pos {
				t.Fatalf("Durable after reopen = %d, want %d", got, pos)
			}
			got := readAll(t, l, 0)
			if len(got) != len(recs) {
				t.Fatalf("read %d records, want %d", len(got), len(recs))
			}
			for i := range recs {
				if !bytes.Equal(got[i].rec, recs[i]) || got[i].end != ends[i] {
					t.Errorf("record %d = (%d bytes, end %d), want (%d bytes, end %d)", i, len(got[i].rec), got[i].end, len(recs[i]), ends[i])
				}
			}
			if reports != 0 {
				t.Errorf("OnCorruption called %d times on a clean log", reports)
			}
			end, err := l.Append(t.Context(), []byte("more"))
			if err != nil || end != pos+frameSize+4 {
				t.Fatalf("Append after reopen = %d, %v; want %d", end, err, pos+frameSize+4)
			}
		})
	}
}

func TestConcurrentAppend(t *testing.T) {
	for _, fc := range fsCases {
		t.Run(fc.name, func(t *testing.T) {
			fsys, dir := fc.fs(t)
			l := mustOpen(t, Options{Dir: dir, FS: fsys, SegmentSize: 16 << 10})
			defer mustClose(t, l)
			const writers, each = 16, 100
			ends := make([][]uint64, writers)
			var wg sync.WaitGroup
			for g := range writers {
				wg.Go(func() {
					for i := range each {
						end, err := l.Append(t.Context(), testRecord(g, i))
						if err != nil {
							t.Errorf("Append: %v", err)
							return
						}
						ends[g] = append(ends[g], end)
					}
				})
			}
			wg.Wait()
			got := readAll(t, l, 0)
			if len(got) != writers*each {
				t.Fatalf("read %d records, want %d", len(got), writers*each)
			}
			next := make([]int, writers)
			for _, e := range got {
				g, i, err := parseTestRecord(e.rec)
				if err != nil {
					t.Fatal(err)
				}
				if i != next[g] {
					t.Fatalf("writer %d: record %d, want %d", g, i, next[g])
				}
				if ends[g][i] != e.end {
					t.Fatalf("writer %d record %d: Append end %d, read end %d", g, i, ends[g][i], e.end)
				}
				next[g]++
			}
		})
	}
}

func TestWaitAndClose(t *testing.T) {
	l := mustOpen(t, Options{Dir: "/wal", FS: newMemFS(1)})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.Wait(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with canceled ctx: %v, want context.Canceled", err)
	}
	if _, err := l.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with canceled ctx: %v, want context.Canceled", err)
	}
	end, err := l.Append(t.Context(), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(t.Context(), end-1); err != nil {
		t.Fatalf("Wait for a durable position: %v", err)
	}
	done := make(chan error)
	go func() { done <- l.Wait(context.Background(), end) }()
	mustClose(t, l)
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait across Close: %v, want ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	if _, err := l.NewReader(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewReader after Close: %v, want ErrClosed", err)
	}
}

func TestAppendTooLarge(t *testing.T) {
	l := mustOpen(t, Options{Dir: "/wal", FS: newMemFS(1)})
	defer mustClose(t, l)
	if _, err := l.Append(t.Context(), make([]byte, MaxRecordSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append: %v, want ErrTooLarge", err)
	}
	if l.Durable() != 0 {
		t.Fatalf("Durable = %d after a rejected append", l.Durable())
	}
}

// appendN appends testRecord(0, i) for i in [0, n) and returns the ends.
func appendN(t *testing.T, l *Log, n int) []uint64 {
	t.Helper()
	var ends []uint64
	for i := range n {
		end, err := l.Append(t.Context(), testRecord(0, i))
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		ends = append(ends, end)
	}
	return ends
}

// segmentFiles returns the segment names in the memFS directory.
func segmentFiles(t *testing.T, fsys *memFS, dir string) []string {
	t.Helper()
	names, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestSegmentRoll(t *testing.T) {
	fsys := newMemFS(1)
	l := mustOpen(t, Options{Dir: "/wal", FS: fsys, SegmentSize: 1}) // every record gets its own segment
	ends := appendN(t, l, 10)
	mustClose(t, l)

	want := []string{segmentName(0)}
	for _, e := range ends[:len(ends)-1] {
		want = append(want, segmentName(e))
	}
	if got := segmentFiles(t, fsys, "/wal"); !slices.Equal(got, want) {
		t.Fatalf("segments = %v, want %v", got, want)
	}
	for i, name := range want {
		data, _ := fsys.readFile(filepath.Join("/wal", name))
		start, err := decodeHeader(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if wantStart, _ := parseSegmentName(name); start != wantStart {
			t.Fatalf("%s: header start %d", name, start)
		}
		if _, n, err := parseRecord(data[headerSize:]); err != nil || headerSize+n != len(data) {
			t.Fatalf("segment %d: want exactly one record, got n=%d len=%d err=%v", i, n, len(data), err)
		}
	}

	l = mustOpen(t, Options{Dir: "/wal", FS: fsys, SegmentSize: 1})
	defer mustClose(t, l)
	got := readAll(t, l, 0)
	if len(got) != 10 {
		t.Fatalf("read %d records after reopen, want 10", len(got))
	}
	for i, e := range got {
		if !bytes.Equal(e.rec, testRecord(0, i)) || e.end != ends[i] {
			t.Fatalf("record %d mismatch", i)
		}
	}
}

func TestReaderFromMiddle(t *testing.T) {
	l := mustOpen(t, Options{Dir: "/wal", FS: newMemFS(1), SegmentSize: 700})
	defer mustClose(t, l)
	ends := appendN(t, l, 30)
	for _, from := range []int{0, 1, 9, 17, 29, 30} {
		t.Run(fmt.Sprint(from), func(t *testing.T) {
			pos := uint64(0)
			if from > 0 {
				pos = ends[from-1]
			}
			got := readAll(t, l, pos)
			if len(got) != 30-from {
				t.Fatalf("read %d records, want %d", len(got), 30-from)
			}
			for k, e := range got {
				if !bytes.Equal(e.rec, testRecord(0, from+k)) || e.end != ends[from+k] {
					t.Fatalf("record %d mismatch", from+k)
				}
			}
		})
	}
	if _, err := l.NewReader(ends[29] + 1); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("NewReader past Durable: %v, want ErrOutOfRange", err)
	}
}

func TestRemoveBefore(t *testing.T) {
	fsys := newMemFS(1)
	opts := Options{Dir: "/wal", FS: fsys, SegmentSize: 1000}
	l := mustOpen(t, opts)
	ends := appendN(t, l, 60)
	before := segmentFiles(t, fsys, "/wal")
	if len(before) < 5 {
		t.Fatalf("want several segments, got %v", before)
	}
	pos := ends[25]
	if err := l.RemoveBefore(pos); err != nil {
		t.Fatal(err)
	}
	after := segmentFiles(t, fsys, "/wal")
	oldest, _ := parseSegmentName(after[0])
	// Every deleted segment ended at or before pos; the oldest kept one
	// holds a record ending after pos.
	if len(after) >= len(before) || oldest > pos {
		t.Fatalf("after RemoveBefore(%d): %v (before: %v)", pos, after, before)
	}
	for i, name := range before[:len(before)-len(after)] {
		if next, _ := parseSegmentName(before[i+1]); next > pos {
			t.Fatalf("removed %s whose records end at %d > %d", name, next, pos)
		}
	}
	if len(after) > 1 {
		if second, _ := parseSegmentName(after[1]); second <= pos {
			t.Fatalf("kept %s whose records all end at or before %d", after[0], pos)
		}
	}
	if _, err := l.NewReader(oldest - 1); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("NewReader before the oldest segment: %v, want ErrOutOfRange", err)
	}
	first := slices.Index(ends, oldest) + 1
	got := readAll(t, l, 0) // 0 means the oldest segment
	if len(got) != 60-first || !bytes.Equal(got[0].rec, testRecord(0, first)) {
		t.Fatalf("read %d records from the oldest segment, want %d starting at record %d", len(got), 60-first, first)
	}

	// Removing everything keeps the last segment, and the log reopens.
	if err := l.RemoveBefore(ends[59]); err != nil {
		t.Fatal(err)
	}
	if n := len(segmentFiles(t, fsys, "/wal")); n != 1 {
		t.Fatalf("%d segments left, want 1", n)
	}
	mustClose(t, l)
	l = mustOpen(t, opts)
	defer mustClose(t, l)
	if l.Durable() != ends[59] {
		t.Fatalf("Durable after reopen = %d, want %d", l.Durable(), ends[59])
	}
	end, err := l.Append(t.Context(), []byte("next"))
	if err != nil || end != ends[59]+frameSize+4 {
		t.Fatalf("Append after reopen: %d, %v", end, err)
	}
}

func TestReaderTailsWriter(t *testing.T) {
	l := mustOpen(t, Options{Dir: "/wal", FS: newMemFS(1), SegmentSize: 2000})
	defer mustClose(t, l)
	const n = 500
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if _, err := l.Append(t.Context(), testRecord(0, i)); err != nil {
				t.Errorf("Append: %v", err)
				return
			}
		}
	})
	defer wg.Wait()

	r, err := l.NewReader(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var pos uint64
	for i := 0; i < n; {
		rec, end, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Next: %v", err)
			}
			if pos > l.Durable() {
				t.Fatalf("reader at %d, past Durable %d", pos, l.Durable())
			}
			if err := l.Wait(t.Context(), pos); err != nil {
				t.Fatalf("Wait: %v", err)
			}
			continue
		}
		if end > l.Durable() {
			t.Fatalf("record ends at %d, past Durable %d", end, l.Durable())
		}
		if !bytes.Equal(rec, testRecord(0, i)) {
			t.Fatalf("record %d mismatch", i)
		}
		pos = end
		i++
	}
}

func TestSyncFailureIsSticky(t *testing.T) {
	fsys := newMemFS(1)
	l := mustOpen(t, Options{Dir: "/wal", FS: fsys})
	end, err := l.Append(t.Context(), []byte("kept"))
	if err != nil {
		t.Fatal(err)
	}
	errDisk := errors.New("disk on fire")
	fsys.mu.Lock()
	fsys.failSync = errDisk
	fsys.mu.Unlock()
	if _, err := l.Append(t.Context(), []byte("lost")); !errors.Is(err, errDisk) {
		t.Fatalf("Append with failing sync: %v, want %v", err, errDisk)
	}
	fsys.mu.Lock()
	fsys.failSync = nil
	fsys.mu.Unlock()
	if _, err := l.Append(t.Context(), []byte("later")); !errors.Is(err, errDisk) {
		t.Fatalf("Append after a sync failure: %v, want the sticky %v", err, errDisk)
	}
	if err := l.Wait(t.Context(), end); !errors.Is(err, errDisk) {
		t.Fatalf("Wait after a sync failure: %v, want %v", err, errDisk)
	}
	if l.Durable() != end {
		t.Fatalf("Durable = %d, want %d", l.Durable(), end)
	}
	if err := l.Close(); !errors.Is(err, errDisk) {
		t.Fatalf("Close: %v, want %v", err, errDisk)
	}
	l = mustOpen(t, Options{Dir: "/wal", FS: fsys.crashImage()})
	defer mustClose(t, l)
	if got := readAll(t, l, 0); len(got) < 1 || string(got[0].rec) != "kept" {
		t.Fatalf("acknowledged record lost: %d records", len(got))
	}
}
