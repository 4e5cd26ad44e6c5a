package wal

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
)

// memFS is an in-memory FS that models what survives a crash: a file keeps
// only what was written before its last Sync (plus, optionally, a torn
// prefix of the rest), and directory entries keep the state of the last
// SyncDir of their directory.
type memFS struct {
	mu      sync.Mutex
	files   map[string]*memFile // current directory entries
	durable map[string]*memFile // entries as of the last SyncDir
	rng     *rand.Rand

	ops      int    // mutating operations so far
	crashAt  int    // take a crash image before this operation; 0 = never
	snapshot *memFS // crash image, once taken
	failSync error  // if set, every file Sync fails with it
}

type memFile struct {
	data   []byte // current contents
	synced []byte // contents as of the last Sync
}

func newMemFS(seed uint64) *memFS {
	return &memFS{
		files:   map[string]*memFile{},
		durable: map[string]*memFile{},
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

var _ FS = (*memFS)(nil)

// tick counts a mutating operation; the crash image is taken just before
// operation number crashAt. Called with mu held.
func (m *memFS) tick() {
	m.ops++
	if m.ops == m.crashAt && m.snapshot == nil {
		m.snapshot = m.crashImageLocked()
	}
}

// crashed reports whether the crash image was taken.
func (m *memFS) crashed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshot != nil
}

// crashImage returns a new memFS holding what would be on disk if the
// machine lost power now.
func (m *memFS) crashImage() *memFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.crashImageLocked()
}

func (m *memFS) crashImageLocked() *memFS {
	c := newMemFS(m.rng.Uint64())
	names := make([]string, 0, len(m.durable))
	for name := range m.durable {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic use of rng
	for _, name := range names {
		f := m.durable[name]
		content := slices.Clone(f.synced)
		if extra := len(f.data) - len(f.synced); extra > 0 && bytes.HasPrefix(f.data, f.synced) && m.rng.IntN(2) == 0 {
			torn := f.data[len(f.synced) : len(f.synced)+m.rng.IntN(extra+1)]
			start := len(content)
			content = append(content, torn...)
			if m.rng.IntN(4) == 0 { // the torn part holds garbage
				for i := start; i < len(content); i++ {
					content[i] = byte(m.rng.Uint32())
				}
			}
		}
		nf := &memFile{data: content, synced: slices.Clone(content)}
		c.files[name] = nf
		c.durable[name] = nf
	}
	return c
}

// writeFile creates name with data, synced, with a synced directory entry.
func (m *memFS) writeFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := &memFile{data: slices.Clone(data), synced: slices.Clone(data)}
	m.files[name] = f
	m.durable[name] = f
}

// readFile returns the current contents of name.
func (m *memFS) readFile(name string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[name]
	if !ok {
		return nil, false
	}
	return slices.Clone(f.data), true
}

func (m *memFS) MkdirAll(string) error { return nil }

func (m *memFS) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for name := range m.files {
		if filepath.Dir(name) == filepath.Clean(dir) {
			names = append(names, filepath.Base(name))
		}
	}
	slices.Sort(names)
	return names, nil
}

func (m *memFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tick()
	f, ok := m.files[name]
	if ok {
		f.data = f.data[:0:0]
	} else {
		f = &memFile{}
		m.files[name] = f
	}
	return &memHandle{fs: m, f: f, writable: true}, nil
}

func (m *memFS) open(name string, writable bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memHandle{fs: m, f: f, writable: writable}, nil
}

func (m *memFS) Open(name string) (File, error)   { return m.open(name, false) }
func (m *memFS) OpenRW(name string) (File, error) { return m.open(name, true) }

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tick()
	if _, ok := m.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

func (m *memFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tick()
	dir = filepath.Clean(dir)
	for name := range m.durable {
		if filepath.Dir(name) == dir {
			if _, ok := m.files[name]; !ok {
				delete(m.durable, name)
			}
		}
	}
	for name, f := range m.files {
		if filepath.Dir(name) == dir {
			m.durable[name] = f
		}
	}
	return nil
}

type memHandle struct {
	fs       *memFS
	f        *memFile
	writable bool
	closed   bool
}

var errHandleClosed = errors.New("memfs: file closed")

func (h *memHandle) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return 0, errHandleClosed
	}
	if off >= int64(len(h.f.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (h *memHandle) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	h.fs.tick()
	if h.closed {
		return 0, errHandleClosed
	}
	if !h.writable {
		return 0, errors.New("memfs: file not open for writing")
	}
	if end := off + int64(len(p)); end > int64(len(h.f.data)) {
		h.f.data = append(h.f.data, make([]byte, int(end)-len(h.f.data))...)
	}
	return copy(h.f.data[off:], p), nil
}

func (h *memHandle) Size() (int64, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return int64(len(h.f.data)), nil
}

func (h *memHandle) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	h.fs.tick()
	if size < int64(len(h.f.data)) {
		h.f.data = slices.Clone(h.f.data[:size])
	} else {
		h.f.data = append(h.f.data, make([]byte, int(size)-len(h.f.data))...)
	}
	return nil
}

func (h *memHandle) Sync() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	h.fs.tick()
	if h.closed {
		return errHandleClosed
	}
	if h.fs.failSync != nil {
		return h.fs.failSync
	}
	h.f.synced = slices.Clone(h.f.data)
	return nil
}

func (h *memHandle) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return errHandleClosed
	}
	h.closed = true
	return nil
}
