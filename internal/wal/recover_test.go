package wal

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

// report is one call of Options.OnCorruption.
type report struct {
	segment string
	offset  int64
}

// openRecording opens the log and records OnCorruption calls, checking that
// each error wraps ErrCorrupt.
func openRecording(t *testing.T, opts Options) (*Log, *[]report) {
	t.Helper()
	var reports []report
	opts.OnCorruption = func(segment string, offset int64, err error) {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("OnCorruption(%s, %d) error %v does not wrap ErrCorrupt", segment, offset, err)
		}
		reports = append(reports, report{segment, offset})
	}
	return mustOpen(t, opts), &reports
}

func TestRecoverDamagedTail(t *testing.T) {
	const n = 10
	// offsets of each record in the single segment, plus the end.
	off := make([]int, n+1)
	off[0] = headerSize
	for i := range n {
		off[i+1] = off[i] + frameSize + len(testRecord(0, i))
	}
	tests := []struct {
		name   string
		damage func(data []byte) []byte
		keep   int // records left
	}{
		{"garbage tail", func(d []byte) []byte { return append(d, []byte("not a record at all, sorry")...) }, n},
		{"half a record", func(d []byte) []byte {
			frame := appendRecord(nil, testRecord(0, n))
			return append(d, frame[:len(frame)/2]...)
		}, n},
		{"frame header only", func(d []byte) []byte { return append(d, appendRecord(nil, testRecord(0, n))[:frameSize]...) }, n},
		{"three bytes", func(d []byte) []byte { return append(d, 1, 2, 3) }, n},
		{"zero tail", func(d []byte) []byte { return append(d, make([]byte, 4096)...) }, n},
		{"flipped payload byte mid-file", func(d []byte) []byte { d[off[5]+frameSize+3] ^= 0x40; return d }, 5},
		{"flipped crc byte", func(d []byte) []byte { d[off[2]+5] ^= 1; return d }, 2},
		{"flipped length byte", func(d []byte) []byte { d[off[7]] ^= 1; return d }, 7},
		{"impossible length", func(d []byte) []byte { copy(d[off[3]:], []byte{0xff, 0xff, 0xff, 0xff}); return d }, 3},
		{"first record damaged", func(d []byte) []byte { d[off[0]+frameSize] ^= 0x80; return d }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := newMemFS(1)
			opts := Options{Dir: "/wal", FS: fsys}
			l := mustOpen(t, opts)
			ends := appendN(t, l, n)
			mustClose(t, l)
			name := filepath.Join("/wal", segmentName(0))
			data, _ := fsys.readFile(name)
			if len(data) != off[n] {
				t.Fatalf("segment is %d bytes, want %d", len(data), off[n])
			}
			fsys.writeFile(name, tc.damage(data))

			l, reports := openRecording(t, opts)
			want := []report{{segmentName(0), int64(off[tc.keep])}}
			if !slices.Equal(*reports, want) {
				t.Fatalf("reports = %v, want %v", *reports, want)
			}
			if got, _ := fsys.readFile(name); len(got) != off[tc.keep] {
				t.Fatalf("segment truncated to %d bytes, want %d", len(got), off[tc.keep])
			}
			wantDurable := uint64(0)
			if tc.keep > 0 {
				wantDurable = ends[tc.keep-1]
			}
			if l.Durable() != wantDurable {
				t.Fatalf("Durable = %d, want %d", l.Durable(), wantDurable)
			}
			got := readAll(t, l, 0)
			if len(got) != tc.keep {
				t.Fatalf("read %d records, want %d", len(got), tc.keep)
			}
			for i, e := range got {
				if !bytes.Equal(e.rec, testRecord(0, i)) {
					t.Fatalf("record %d mismatch", i)
				}
			}
			// The repaired log takes appends and reopens cleanly.
			if _, err := l.Append(t.Context(), testRecord(0, tc.keep)); err != nil {
				t.Fatal(err)
			}
			mustClose(t, l)
			l, reports = openRecording(t, opts)
			defer mustClose(t, l)
			if len(*reports) != 0 {
				t.Fatalf("reports after repair: %v", *reports)
			}
			if got := readAll(t, l, 0); len(got) != tc.keep+1 {
				t.Fatalf("read %d records after repair, want %d", len(got), tc.keep+1)
			}
		})
	}
}

func TestRecoverCorruptMiddleSegment(t *testing.T) {
	fsys := newMemFS(1)
	opts := Options{Dir: "/wal", FS: fsys, SegmentSize: 1000}
	l := mustOpen(t, opts)
	ends := appendN(t, l, 40)
	mustClose(t, l)
	segs := segmentFiles(t, fsys, "/wal")
	if len(segs) < 4 {
		t.Fatalf("want at least 4 segments, got %v", segs)
	}
	// Damage the second record of the second segment.
	start, _ := parseSegmentName(segs[1])
	first := slices.Index(ends, start) + 1 // index of its first record
	name := filepath.Join("/wal", segs[1])
	data, _ := fsys.readFile(name)
	second := headerSize + frameSize + len(testRecord(0, first))
	data[second+frameSize] ^= 0xff
	fsys.writeFile(name, data)

	l, reports := openRecording(t, opts)
	defer mustClose(t, l)
	want := []report{}
	for _, s := range segs[2:] {
		want = append(want, report{s, 0})
	}
	want = append(want, report{segs[1], int64(second)})
	if !slices.Equal(*reports, want) {
		t.Fatalf("reports = %v, want %v", *reports, want)
	}
	if got := segmentFiles(t, fsys, "/wal"); !slices.Equal(got, segs[:2]) {
		t.Fatalf("segments = %v, want %v", got, segs[:2])
	}
	if got := readAll(t, l, 0); len(got) != first+1 {
		t.Fatalf("read %d records, want %d", len(got), first+1)
	}
	if l.Durable() != ends[first] {
		t.Fatalf("Durable = %d, want %d", l.Durable(), ends[first])
	}
}

func TestRecoverBadHeader(t *testing.T) {
	tests := []struct {
		name   string
		header func(start uint64) []byte
	}{
		{"empty", func(uint64) []byte { return nil }},
		{"torn", func(s uint64) []byte { return encodeHeader(s)[:7] }},
		{"bad crc", func(s uint64) []byte { h := encodeHeader(s); h[18] ^= 1; return h }},
		{"bad magic", func(s uint64) []byte { h := encodeHeader(s); h[0] = 'X'; return h }},
		{"start mismatch", func(s uint64) []byte { return encodeHeader(s + 1) }},
	}
	for _, tc := range tests {
		t.Run(tc.name+" after records", func(t *testing.T) {
			fsys := newMemFS(1)
			opts := Options{Dir: "/wal", FS: fsys}
			l := mustOpen(t, opts)
			ends := appendN(t, l, 5)
			mustClose(t, l)
			torn := segmentName(ends[4])
			fsys.writeFile(filepath.Join("/wal", torn), tc.header(ends[4]))

			l, reports := openRecording(t, opts)
			defer mustClose(t, l)
			if want := []report{{torn, 0}}; !slices.Equal(*reports, want) {
				t.Fatalf("reports = %v, want %v", *reports, want)
			}
			if got := segmentFiles(t, fsys, "/wal"); !slices.Equal(got, []string{segmentName(0)}) {
				t.Fatalf("segments = %v", got)
			}
			if len(readAll(t, l, 0)) != 5 || l.Durable() != ends[4] {
				t.Fatalf("log not intact: Durable %d", l.Durable())
			}
		})
		t.Run(tc.name+" only segment", func(t *testing.T) {
			fsys := newMemFS(1)
			const start = 1234
			fsys.writeFile(filepath.Join("/wal", segmentName(start)), tc.header(start))
			l, reports := openRecording(t, Options{Dir: "/wal", FS: fsys})
			defer mustClose(t, l)
			if want := []report{{segmentName(start), 0}}; !slices.Equal(*reports, want) {
				t.Fatalf("reports = %v, want %v", *reports, want)
			}
			if l.Durable() != start {
				t.Fatalf("Durable = %d, want %d: positions must not go back", l.Durable(), start)
			}
			end, err := l.Append(t.Context(), []byte("x"))
			if err != nil || end != start+frameSize+1 {
				t.Fatalf("Append = %d, %v", end, err)
			}
		})
	}
}

func TestRecoverStaleSegmentsBeforeGap(t *testing.T) {
	fsys := newMemFS(1)
	opts := Options{Dir: "/wal", FS: fsys, SegmentSize: 1000}
	l := mustOpen(t, opts)
	ends := appendN(t, l, 40)
	mustClose(t, l)
	segs := segmentFiles(t, fsys, "/wal")
	if len(segs) < 4 {
		t.Fatalf("want at least 4 segments, got %v", segs)
	}
	// An interrupted RemoveBefore deleted segs[1] but not segs[0].
	if err := fsys.Remove(filepath.Join("/wal", segs[1])); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("/wal"); err != nil {
		t.Fatal(err)
	}
	l, reports := openRecording(t, opts)
	defer mustClose(t, l)
	if len(*reports) != 0 {
		t.Fatalf("reports = %v, want none", *reports)
	}
	if got := segmentFiles(t, fsys, "/wal"); !slices.Equal(got, segs[2:]) {
		t.Fatalf("segments = %v, want %v", got, segs[2:])
	}
	start, _ := parseSegmentName(segs[2])
	first := slices.Index(ends, start) + 1
	got := readAll(t, l, 0)
	if len(got) != 40-first || !bytes.Equal(got[0].rec, testRecord(0, first)) || l.Durable() != ends[39] {
		t.Fatalf("read %d records from %d, want %d from record %d", len(got), start, 40-first, first)
	}
}

func TestIgnoresOtherFiles(t *testing.T) {
	fsys := newMemFS(1)
	for _, name := range []string{"README", "0.wal", "0000000000000000000x.wal", "00000000000000000000.wal.tmp"} {
		fsys.writeFile(filepath.Join("/wal", name), []byte("junk"))
	}
	l, reports := openRecording(t, Options{Dir: "/wal", FS: fsys})
	defer mustClose(t, l)
	if len(*reports) != 0 || l.Durable() != 0 {
		t.Fatalf("reports %v, Durable %d", *reports, l.Durable())
	}
	if _, ok := fsys.readFile(filepath.Join("/wal", "README")); !ok {
		t.Fatal("foreign file removed")
	}
}
