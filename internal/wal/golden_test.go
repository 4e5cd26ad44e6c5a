package wal

import (
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestFormatGolden pins the byte layout of docs/format/wal.md: a segment
// holding three records, as a hex dump in testdata/segment.golden.
func TestFormatGolden(t *testing.T) {
	fsys := newMemFS(1)
	l := mustOpen(t, Options{Dir: "/wal", FS: fsys})
	for _, rec := range []string{"hello", "", "crest"} {
		if _, err := l.Append(t.Context(), []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, l)
	data, ok := fsys.readFile(filepath.Join("/wal", "00000000000000000000.wal"))
	if !ok {
		t.Fatal("segment file missing")
	}
	got := hex.Dump(data)
	path := filepath.Join("testdata", "segment.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("segment bytes changed:\ngot:\n%s\nwant:\n%s", got, want)
	}
}
