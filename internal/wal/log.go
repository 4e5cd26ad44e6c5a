package wal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Options configure a Log.
type Options struct {
	// Dir is the directory holding the segment files. It is created if
	// missing.
	Dir string
	// SegmentSize is the size in bytes past which the log rolls to a new
	// segment. A segment may exceed it by one batch. Default 64 MiB.
	SegmentSize int64
	// FS is the file system; nil means the operating system's.
	FS FS
	// OnCorruption, if set, is called during Open for each segment that was
	// truncated (at offset) or deleted (offset 0) because of a torn or corrupt
	// tail. err wraps ErrCorrupt. It is called synchronously from Open.
	OnCorruption func(segment string, offset int64, err error)
}

// segment is one segment file of the log.
type segment struct {
	start uint64 // position of the first record
	name  string // full path
}

// Log is a write-ahead log. All methods are safe for concurrent use.
type Log struct {
	fs          FS
	dir         string
	segmentSize int64

	durable atomic.Uint64 // end of the last fsynced record

	mu       sync.Mutex
	cond     *sync.Cond    // signals the syncer that buf is non-empty or closing
	segs     []segment     // ordered by start; the last is being appended to
	buf      []byte        // frames queued for the next round
	next     uint64        // end position of the last queued record
	notify   chan struct{} // closed and replaced whenever durable advances or the log stops
	closing  bool          // Close was called: no new appends
	stopped  bool          // the syncer has exited
	err      error         // sticky write or sync error
	spare    []byte        // a drained buffer for reuse, owned by mu
	syncDone chan struct{} // closed when the syncer exits

	removeMu sync.Mutex // serialises RemoveBefore

	// Owned by the syncer goroutine (and by Open before it starts).
	active     File  // last segment, open for writing
	activeSize int64 // bytes in the active file, header included
}

// Open opens the log in opts.Dir, recovering it as described in
// docs/format/wal.md, and starts its syncer goroutine. Call Close when done.
func Open(opts Options) (*Log, error) {
	if opts.Dir == "" {
		return nil, errors.New("wal: open: empty Dir")
	}
	fsys := opts.FS
	if fsys == nil {
		fsys = OSFS{}
	}
	size := opts.SegmentSize
	if size <= 0 {
		size = DefaultSegmentSize
	}
	l := &Log{
		fs:          fsys,
		dir:         opts.Dir,
		segmentSize: size,
		notify:      make(chan struct{}),
		syncDone:    make(chan struct{}),
	}
	l.cond = sync.NewCond(&l.mu)
	if err := l.recover(opts.OnCorruption); err != nil {
		if l.active != nil {
			_ = l.active.Close()
		}
		return nil, fmt.Errorf("wal: open %s: %w", opts.Dir, err)
	}
	go l.syncLoop()
	return l, nil
}

// Append writes rec as one record and returns once it is fsynced, with the
// log position just past it. rec is copied; the caller may reuse it.
// Concurrent Appends share writes and fsyncs (group commit).
//
// If ctx is done first, Append returns ctx.Err() and the record may or may
// not become durable later. After Close it returns ErrClosed; after a write
// or sync failure it returns that error, for this and every later call.
func (l *Log) Append(ctx context.Context, rec []byte) (end uint64, err error) {
	if len(rec) > MaxRecordSize {
		return 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(rec))
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	frame := frameHeader(rec) // the CRC is computed outside the lock
	l.mu.Lock()
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return 0, err
	}
	if l.closing {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	wasEmpty := len(l.buf) == 0
	l.buf = append(append(l.buf, frame[:]...), rec...)
	l.next += uint64(frameSize + len(rec))
	end = l.next
	if wasEmpty {
		l.cond.Signal()
	}
	l.mu.Unlock()

	for {
		if l.durable.Load() >= end {
			return end, nil
		}
		l.mu.Lock()
		ch, sticky, stopped := l.notify, l.err, l.stopped
		l.mu.Unlock()
		if l.durable.Load() >= end {
			return end, nil
		}
		if sticky != nil {
			return 0, sticky
		}
		if stopped {
			return 0, ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Durable returns the position up to which records are fsynced.
func (l *Log) Durable() uint64 { return l.durable.Load() }

// Wait blocks until Durable() > after, ctx is done (returning ctx.Err()), or
// the log is closed or failed (returning ErrClosed or the failure).
func (l *Log) Wait(ctx context.Context, after uint64) error {
	for {
		if l.durable.Load() > after {
			return nil
		}
		l.mu.Lock()
		ch, sticky, stopped := l.notify, l.err, l.stopped
		l.mu.Unlock()
		if l.durable.Load() > after {
			return nil
		}
		if sticky != nil {
			return sticky
		}
		if stopped {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close writes and syncs every queued record, stops the syncer and closes
// the active segment. Later Appends return ErrClosed. Close returns the
// log's sticky write or sync error, if any. Calling Close twice returns
// ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closing = true
	l.cond.Signal()
	l.mu.Unlock()
	<-l.syncDone

	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if cerr := l.active.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("wal: close segment: %w", cerr)
	}
	return err
}

// syncLoop is the single writer: each round it takes every queued frame,
// writes them with one WriteAt, fsyncs, and publishes the new durable
// position.
func (l *Log) syncLoop() {
	defer close(l.syncDone)
	for {
		l.mu.Lock()
		for len(l.buf) == 0 && !l.closing {
			l.cond.Wait()
		}
		if len(l.buf) == 0 { // closing and drained
			l.stopped = true
			close(l.notify)
			l.mu.Unlock()
			return
		}
		batch := l.buf
		l.buf = l.spare[:0]
		l.spare = nil
		end := l.next
		l.mu.Unlock()

		err := l.writeBatch(batch)

		l.mu.Lock()
		if err != nil {
			l.err = fmt.Errorf("wal: %w", err)
			l.stopped = true
		} else {
			l.durable.Store(end)
		}
		close(l.notify)
		l.notify = make(chan struct{})
		if cap(batch) <= maxSpare {
			l.spare = batch[:0]
		}
		stop := l.stopped
		l.mu.Unlock()
		if stop {
			return
		}
	}
}

// maxSpare is the largest batch buffer kept for reuse; bigger ones (from
// very large records) are left to the garbage collector.
const maxSpare = 8 << 20

// writeBatch rolls the segment if it is full, then writes and syncs batch.
func (l *Log) writeBatch(batch []byte) error {
	if l.activeSize >= l.segmentSize && l.activeSize > headerSize {
		if err := l.roll(l.durable.Load()); err != nil {
			return err
		}
	}
	if _, err := l.active.WriteAt(batch, l.activeSize); err != nil {
		return fmt.Errorf("write segment: %w", err)
	}
	l.activeSize += int64(len(batch))
	if err := l.active.Sync(); err != nil {
		return fmt.Errorf("sync segment: %w", err)
	}
	return nil
}

// roll makes a new, durable, empty segment starting at start the active one.
func (l *Log) roll(start uint64) error {
	f, err := l.createSegment(start)
	if err != nil {
		return err
	}
	if l.active != nil {
		if err := l.active.Close(); err != nil {
			_ = f.Close()
			return fmt.Errorf("close segment: %w", err)
		}
	}
	l.active, l.activeSize = f, headerSize
	l.mu.Lock()
	l.segs = append(l.segs, segment{start: start, name: filepath.Join(l.dir, segmentName(start))})
	l.mu.Unlock()
	return nil
}

// createSegment creates the segment file for start, writes its header and
// syncs the file and the directory.
func (l *Log) createSegment(start uint64) (File, error) {
	name := filepath.Join(l.dir, segmentName(start))
	f, err := l.fs.Create(name)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	if _, err := f.WriteAt(encodeHeader(start), 0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write segment header: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("sync segment: %w", err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("sync dir: %w", err)
	}
	return f, nil
}

// RemoveBefore deletes every segment, except the last, all of whose records
// end at or before pos, and syncs the directory. Readers positioned in a
// deleted segment fail on their next read.
func (l *Log) RemoveBefore(pos uint64) error {
	l.removeMu.Lock()
	defer l.removeMu.Unlock()

	l.mu.Lock()
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1].start <= pos {
		n++
	}
	doomed := append([]segment(nil), l.segs[:n]...)
	l.segs = append(l.segs[:0:0], l.segs[n:]...)
	l.mu.Unlock()
	if n == 0 {
		return nil
	}
	for _, s := range doomed {
		if err := l.fs.Remove(s.name); err != nil {
			return fmt.Errorf("wal: remove segment: %w", err)
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("wal: sync dir: %w", err)
	}
	return nil
}

// segmentAt returns the segment holding pos and the start of the segment
// after it (or ^uint64(0) for the last segment).
func (l *Log) segmentAt(pos uint64) (segment, uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := len(l.segs) - 1
	for i >= 0 && l.segs[i].start > pos {
		i--
	}
	if i < 0 {
		return segment{}, 0, fmt.Errorf("%w: %d is before the oldest segment", ErrOutOfRange, pos)
	}
	end := ^uint64(0)
	if i+1 < len(l.segs) {
		end = l.segs[i+1].start
	}
	return l.segs[i], end, nil
}
