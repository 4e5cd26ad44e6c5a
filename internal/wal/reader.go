package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
)

// readAhead is how many bytes a Reader asks for per read when records are
// small, so tailing costs about one read call per readAhead bytes.
const readAhead = 1 << 20

// Reader reads records in order, starting at a given position. It never
// returns bytes at or past the log's Durable position, so it can tail a log
// that is being appended to. A Reader is not safe for concurrent use.
type Reader struct {
	l   *Log
	pos uint64 // position of the next record

	seg    segment
	segEnd uint64 // start of the next segment, or ^uint64(0) if unknown
	f      File   // open handle on seg, or nil

	buf      []byte // bytes of seg from position bufStart
	bufStart uint64
}

// NewReader returns a Reader positioned at from, which must be 0, the start
// of the oldest segment, or an end position returned by Append or
// Reader.Next. It returns an error wrapping ErrOutOfRange if from is before
// the oldest segment or past Durable.
func (l *Log) NewReader(from uint64) (*Reader, error) {
	l.mu.Lock()
	oldest := l.segs[0].start
	closed := l.closing
	l.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if from == 0 && oldest > 0 {
		from = oldest
	}
	if d := l.Durable(); from > d {
		return nil, fmt.Errorf("%w: %d is past the durable end %d", ErrOutOfRange, from, d)
	}
	if from < oldest {
		return nil, fmt.Errorf("%w: %d is before the oldest segment %d", ErrOutOfRange, from, oldest)
	}
	return &Reader{l: l, pos: from}, nil
}

// Next returns the next record and the position just past it. The returned
// slice is owned by the caller. At Durable it returns io.EOF; Next can be
// called again later (for example after Log.Wait) to continue. A record
// that fails its checks yields an error wrapping ErrCorrupt, and the Reader
// stays where it was.
func (r *Reader) Next() (rec []byte, end uint64, err error) {
	if r.l == nil {
		return nil, 0, ErrClosed
	}
	durable := r.l.Durable()
	if r.pos >= durable {
		return nil, 0, io.EOF
	}
	if r.f == nil || r.pos >= r.segEnd || r.segEnd == ^uint64(0) {
		if err := r.locate(); err != nil {
			return nil, 0, err
		}
	}
	limit := min(durable, r.segEnd) // bytes past limit are not readable yet
	if err := r.fill(frameSize, limit); err != nil {
		return nil, 0, err
	}
	off := int(r.pos - r.bufStart)
	size := binary.LittleEndian.Uint32(r.buf[off : off+4])
	if size > MaxRecordSize {
		return nil, 0, r.corrupt(fmt.Errorf("record length %d over maximum", size))
	}
	if err := r.fill(frameSize+int(size), limit); err != nil {
		return nil, 0, err
	}
	off = int(r.pos - r.bufStart)
	payload, n, perr := parseRecord(r.buf[off:])
	if perr != nil {
		return nil, 0, r.corrupt(perr)
	}
	rec = append(make([]byte, 0, len(payload)), payload...)
	r.pos += uint64(n)
	return rec, r.pos, nil
}

// locate opens the segment holding r.pos, or refreshes the end of the
// current one (it becomes known when the writer rolls).
func (r *Reader) locate() error {
	seg, segEnd, err := r.l.segmentAt(r.pos)
	if err != nil {
		return err
	}
	if r.f != nil && seg.name == r.seg.name {
		r.segEnd = segEnd
		return nil
	}
	f, err := r.l.fs.Open(seg.name)
	if err != nil {
		return fmt.Errorf("wal: open segment: %w", err)
	}
	if r.f != nil {
		_ = r.f.Close()
	}
	r.f, r.seg, r.segEnd = f, seg, segEnd
	r.buf, r.bufStart = r.buf[:0], r.pos
	return nil
}

// fill makes sure r.buf holds n bytes from r.pos, reading no byte at or past
// limit. Missing bytes below limit mean the segment is damaged.
func (r *Reader) fill(n int, limit uint64) error {
	if r.pos >= r.bufStart && r.pos+uint64(n) <= r.bufStart+uint64(len(r.buf)) {
		return nil
	}
	if r.pos+uint64(n) > limit {
		return r.corrupt(errTorn)
	}
	want := max(uint64(n), min(readAhead, limit-r.pos))
	if uint64(cap(r.buf)) < want {
		r.buf = make([]byte, want)
	}
	r.buf = r.buf[:want]
	got, err := r.f.ReadAt(r.buf, headerSize+int64(r.pos-r.seg.start))
	r.buf, r.bufStart = r.buf[:got], r.pos
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return r.corrupt(errTorn)
		}
		return fmt.Errorf("wal: read segment: %w", err)
	}
	return nil
}

func (r *Reader) corrupt(cause error) error {
	return &CorruptionError{
		Segment: filepath.Base(r.seg.name),
		Offset:  headerSize + int64(r.pos-r.seg.start),
		Err:     cause,
	}
}

// Close releases the Reader's file handle. It does not affect the Log.
func (r *Reader) Close() error {
	r.l = nil
	r.buf = nil
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
