package wal

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
)

// recover lists, verifies and repairs the segments in l.dir, then opens the
// last one for appending. The rules are in docs/format/wal.md, "Opening and
// recovery".
func (l *Log) recover(onCorruption func(string, int64, error)) error {
	report := func(name string, off int64, cause error) {
		if onCorruption != nil {
			onCorruption(filepath.Base(name), off, &CorruptionError{Segment: filepath.Base(name), Offset: off, Err: cause})
		}
	}
	if err := l.fs.MkdirAll(l.dir); err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	if err := l.fs.SyncDir(filepath.Dir(filepath.Clean(l.dir))); err != nil {
		return fmt.Errorf("sync parent dir: %w", err)
	}
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("read dir: %w", err)
	}
	var all []segment
	for _, n := range names {
		if start, ok := parseSegmentName(n); ok {
			all = append(all, segment{start: start, name: filepath.Join(l.dir, n)})
		}
	}
	slices.SortFunc(all, func(a, b segment) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})

	var (
		kept     []segment
		end      uint64 // end of the last valid record in kept
		lastSize int64  // valid bytes in the last kept segment
		newStart uint64 // where to start a fresh segment if none is kept
		buf      []byte
	)
	if len(all) > 0 {
		newStart = all[0].start
	}
	for i, s := range all {
		buf, err = l.readFile(s.name, buf)
		if err != nil {
			return err
		}
		start, herr := decodeHeader(buf)
		if herr == nil && start != s.start {
			herr = fmt.Errorf("header start %d does not match name", start)
		}
		if herr != nil {
			// A torn roll or a damaged header: this segment and all later
			// ones go.
			if err := l.removeTail(all[i:], report, herr); err != nil {
				return err
			}
			if len(kept) == 0 {
				newStart = s.start
			}
			break
		}
		if len(kept) > 0 && s.start != end {
			// The segments before a gap are left over from an interrupted
			// RemoveBefore: the newer run is the log.
			for _, k := range kept {
				if err := l.fs.Remove(k.name); err != nil {
					return fmt.Errorf("remove stale segment: %w", err)
				}
			}
			if err := l.fs.SyncDir(l.dir); err != nil {
				return fmt.Errorf("sync dir: %w", err)
			}
			kept = nil
		}
		off, pos := headerSize, s.start
		var rerr error
		for off < len(buf) {
			_, n, err := parseRecord(buf[off:])
			if err != nil {
				rerr = err
				break
			}
			off += n
			pos += uint64(n)
		}
		kept = append(kept, s)
		end, lastSize = pos, int64(off)
		if rerr != nil {
			if err := l.removeTail(all[i+1:], report, fmt.Errorf("follows corrupt segment %s", filepath.Base(s.name))); err != nil {
				return err
			}
			if err := l.truncate(s.name, int64(off)); err != nil {
				return err
			}
			report(s.name, int64(off), rerr)
			break
		}
	}

	if len(kept) == 0 {
		f, err := l.createSegment(newStart)
		if err != nil {
			return err
		}
		l.active, l.activeSize = f, headerSize
		kept = []segment{{start: newStart, name: filepath.Join(l.dir, segmentName(newStart))}}
		end = newStart
	} else {
		f, err := l.fs.OpenRW(kept[len(kept)-1].name)
		if err != nil {
			return fmt.Errorf("open segment: %w", err)
		}
		l.active, l.activeSize = f, lastSize
	}
	l.segs = kept
	l.next = end
	l.durable.Store(end)
	return nil
}

// readFile reads the whole file name into buf (reusing its capacity).
func (l *Log) readFile(name string, buf []byte) ([]byte, error) {
	f, err := l.fs.Open(name)
	if err != nil {
		return buf, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return buf, fmt.Errorf("stat segment: %w", err)
	}
	buf = slices.Grow(buf[:0], int(size))[:size]
	n, err := f.ReadAt(buf, 0)
	if err != nil && !(errors.Is(err, io.EOF) && n == len(buf)) {
		return buf, fmt.Errorf("read segment: %w", err)
	}
	return buf, nil
}

// removeTail deletes segs newest first, reports each and syncs the directory.
func (l *Log) removeTail(segs []segment, report func(string, int64, error), cause error) error {
	if len(segs) == 0 {
		return nil
	}
	for i := len(segs) - 1; i >= 0; i-- {
		if err := l.fs.Remove(segs[i].name); err != nil {
			return fmt.Errorf("remove segment: %w", err)
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	for _, s := range segs {
		report(s.name, 0, cause)
	}
	return nil
}

// truncate cuts the file name to size and syncs it.
func (l *Log) truncate(name string, size int64) error {
	f, err := l.fs.OpenRW(name)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	if err := f.Truncate(size); err != nil {
		_ = f.Close()
		return fmt.Errorf("truncate segment: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync segment: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close segment: %w", err)
	}
	return nil
}
