package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

const (
	// headerSize is the size of a segment header in bytes.
	headerSize = 20
	// frameSize is the size of a record's length and CRC fields in bytes.
	frameSize = 8
	// formatVersion is the segment format version written by this package.
	formatVersion = 1
	// MaxRecordSize is the largest payload Append accepts, in bytes.
	MaxRecordSize = 64 << 20
	// DefaultSegmentSize is the segment size used when Options.SegmentSize is 0.
	DefaultSegmentSize = 64 << 20
	// segmentSuffix ends every segment file name.
	segmentSuffix = ".wal"
	// segmentDigits is the width of the zero-padded start position in a name.
	segmentDigits = 20
)

var (
	// ErrClosed is returned by operations on a closed Log.
	ErrClosed = errors.New("wal: log closed")
	// ErrCorrupt is wrapped by every error that reports invalid bytes in a
	// segment: a bad header, a torn record or a CRC mismatch.
	ErrCorrupt = errors.New("wal: corrupt")
	// ErrTooLarge is returned by Append for a record over MaxRecordSize.
	ErrTooLarge = errors.New("wal: record too large")
	// ErrOutOfRange is returned by NewReader for a position before the oldest
	// segment or past Durable.
	ErrOutOfRange = errors.New("wal: position out of range")
)

var magic = [4]byte{'C', 'W', 'A', 'L'}

// castagnoli is read-only after package initialisation.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CorruptionError describes invalid bytes found in a segment. It wraps
// ErrCorrupt and the specific cause.
type CorruptionError struct {
	Segment string // file name of the segment, without directory
	Offset  int64  // file offset where the invalid bytes start
	Err     error  // what is wrong
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corrupt segment %s at offset %d: %v", e.Segment, e.Offset, e.Err)
}

// Unwrap returns ErrCorrupt and the cause, so errors.Is works for both.
func (e *CorruptionError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// segmentName returns the file name of the segment starting at start.
func segmentName(start uint64) string {
	return fmt.Sprintf("%020d%s", start, segmentSuffix)
}

// parseSegmentName returns the start position encoded in name, or false if
// name is not a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != segmentDigits {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// encodeHeader returns the header of a segment starting at start.
func encodeHeader(start uint64) []byte {
	h := make([]byte, headerSize)
	copy(h[0:4], magic[:])
	binary.LittleEndian.PutUint32(h[4:8], formatVersion)
	binary.LittleEndian.PutUint64(h[8:16], start)
	binary.LittleEndian.PutUint32(h[16:20], crc32.Checksum(h[:16], castagnoli))
	return h
}

// decodeHeader checks a segment header and returns its start position.
func decodeHeader(h []byte) (uint64, error) {
	if len(h) < headerSize {
		return 0, fmt.Errorf("short header: %d bytes", len(h))
	}
	if [4]byte(h[0:4]) != magic {
		return 0, errors.New("bad magic")
	}
	if got, want := binary.LittleEndian.Uint32(h[16:20]), crc32.Checksum(h[:16], castagnoli); got != want {
		return 0, fmt.Errorf("header crc %08x, want %08x", got, want)
	}
	if v := binary.LittleEndian.Uint32(h[4:8]); v != formatVersion {
		return 0, fmt.Errorf("unknown format version %d", v)
	}
	return binary.LittleEndian.Uint64(h[8:16]), nil
}

// recordCRC returns the CRC-32C of a record's length field and payload.
func recordCRC(lenField []byte, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, lenField), castagnoli, payload)
}

// frameHeader returns the length and CRC fields of the record rec.
func frameHeader(rec []byte) [frameSize]byte {
	var f [frameSize]byte
	binary.LittleEndian.PutUint32(f[0:4], uint32(len(rec)))
	binary.LittleEndian.PutUint32(f[4:8], recordCRC(f[0:4], rec))
	return f
}

// appendRecord appends the frame of rec to dst.
func appendRecord(dst, rec []byte) []byte {
	f := frameHeader(rec)
	dst = append(dst, f[:]...)
	return append(dst, rec...)
}

// errTorn is the cause of a CorruptionError for a record cut short.
var errTorn = errors.New("torn record")

// parseRecord decodes the record at the start of b. It returns the payload
// (aliasing b) and the frame length, or an error if b does not start with a
// whole valid record.
func parseRecord(b []byte) (payload []byte, n int, err error) {
	if len(b) < frameSize {
		return nil, 0, errTorn
	}
	size := binary.LittleEndian.Uint32(b[0:4])
	if size > MaxRecordSize {
		return nil, 0, fmt.Errorf("record length %d over maximum", size)
	}
	n = frameSize + int(size)
	if len(b) < n {
		return nil, 0, errTorn
	}
	if got, want := binary.LittleEndian.Uint32(b[4:8]), recordCRC(b[0:4], b[frameSize:n]); got != want {
		return nil, 0, fmt.Errorf("record crc %08x, want %08x", got, want)
	}
	return b[frameSize:n], n, nil
}
