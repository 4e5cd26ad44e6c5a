package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
)

// entry is a record read back with the position just past it.
type entry struct {
	rec []byte
	end uint64
}

// mustOpen opens a log and fails the test on error.
func mustOpen(t testing.TB, opts Options) *Log {
	t.Helper()
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

// mustClose closes l and fails the test on error.
func mustClose(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// readAll reads every durable record from position from.
func readAll(t testing.TB, l *Log, from uint64) []entry {
	t.Helper()
	r, err := l.NewReader(from)
	if err != nil {
		t.Fatalf("NewReader(%d): %v", from, err)
	}
	defer r.Close()
	var out []entry
	for {
		rec, end, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(out), err)
		}
		out = append(out, entry{rec, end})
	}
}

// testRecord returns record number i of writer g: 8 bytes of identity and a
// filler whose length and contents follow from them.
func testRecord(g, i int) []byte {
	n := (g*31 + i*7) % 300
	b := make([]byte, 8, 8+n)
	binary.LittleEndian.PutUint32(b[0:4], uint32(g))
	binary.LittleEndian.PutUint32(b[4:8], uint32(i))
	for k := 0; k < n; k++ {
		b = append(b, byte(g+i+k))
	}
	return b
}

// parseTestRecord checks that rec is a record made by testRecord and
// returns its writer and number.
func parseTestRecord(rec []byte) (g, i int, err error) {
	if len(rec) < 8 {
		return 0, 0, fmt.Errorf("record of %d bytes", len(rec))
	}
	g = int(binary.LittleEndian.Uint32(rec[0:4]))
	i = int(binary.LittleEndian.Uint32(rec[4:8]))
	if want := testRecord(g, i); !bytes.Equal(rec, want) {
		return 0, 0, fmt.Errorf("record g=%d i=%d has wrong contents", g, i)
	}
	return g, i, nil
}
