package wal

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to recovery and the Reader, both as a
// whole segment file and as the body after a valid header. Open must
// succeed, nothing may panic, and every record read must be a frame with a
// valid CRC at its place in the input.
func FuzzReader(f *testing.F) {
	valid := encodeHeader(0)
	for _, rec := range [][]byte{[]byte("hello"), {}, []byte("crest")} {
		valid = appendRecord(valid, rec)
	}
	f.Add(valid)
	f.Add(valid[headerSize:])
	f.Add(valid[:len(valid)-2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, data)
		check(t, append(encodeHeader(0), data...))
	})
}

// check writes file as segment 0, opens the log, reads it and checks every
// record against file.
func check(t *testing.T, file []byte) {
	fsys := newMemFS(1)
	fsys.writeFile(filepath.Join("/wal", segmentName(0)), file)
	l, err := Open(Options{Dir: "/wal", FS: fsys, OnCorruption: func(string, int64, error) {}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer mustClose(t, l)
	for _, e := range readAll(t, l, 0) {
		off := headerSize + int(e.end) - frameSize - len(e.rec)
		if off < headerSize || off+frameSize+len(e.rec) > len(file) {
			t.Fatalf("record ending at %d lies outside the input", e.end)
		}
		frame := file[off : off+frameSize+len(e.rec)]
		if binary.LittleEndian.Uint32(frame[0:4]) != uint32(len(e.rec)) {
			t.Fatalf("record ending at %d: length field mismatch", e.end)
		}
		if binary.LittleEndian.Uint32(frame[4:8]) != recordCRC(frame[0:4], frame[frameSize:]) {
			t.Fatalf("record ending at %d: CRC invalid", e.end)
		}
		if !bytes.Equal(frame[frameSize:], e.rec) {
			t.Fatalf("record ending at %d: payload differs from input", e.end)
		}
	}
}
