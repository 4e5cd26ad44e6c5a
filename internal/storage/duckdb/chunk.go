package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// chunk is what a column's set func writes one output chunk of a staged
// table through (source.go).
//
// duckdb-go writes every value through a cgo call (strings, NULLs) or a
// boxed any (numbers), and DuckDB validates each string's UTF-8 again:
// together about a fifth of Apply's CPU. Where duckdb-go's unexported
// column state has the layout this file expects, chunk writes the
// vectors in place instead, as DuckDB's C API lays them out
// (duckdb.h): BIGINT and DOUBLE as 8-byte values, BOOLEAN as a byte,
// VARCHAR as 16-byte duckdb_string_t (length, then up to 12 bytes inline
// or a 4-byte prefix and a pointer), validity as 64-bit words. Strings
// longer than 12 bytes are copied into a pinned Go arena that lives until
// the Apply's transaction ends (the INSERT copies them into the table's
// storage). Go checks their UTF-8 (much faster than DuckDB's check); an
// invalid string goes through duckdb-go, so DuckDB treats it as before.
//
// The layout is checked by reflection at start and by a round trip
// through DuckDB when a DB opens (probeFastWrites); if either fails,
// every write takes duckdb-go's own path.
type chunk struct {
	ch    duckdb.DataChunk
	base  int       // index of the chunk's first row in the staged rows
	fast  []fastCol // by source column, nil on duckdb-go's path
	arena *arena
}

// fastCol is one output vector written in place.
type fastCol struct {
	typ  duckdb.Type
	skip bool           // not projected: writes are dropped, as duckdb-go does
	data unsafe.Pointer // the vector's values
	mask *[maxChunk / 64]uint64
}

// maxChunk bounds the rows of a chunk (DuckDB's STANDARD_VECTOR_SIZE,
// 2048, unless DuckDB was built otherwise; checked in init).
const maxChunk = 2048

// fastWrites is on while the layout checks pass.
var fastWrites atomic.Bool

// vectorLayout holds the offsets of duckdb-go's unexported vector state:
// duckdb.Vector.v (*vector), and vector.dataPtr and vector.maskPtr.
var vectorLayout struct {
	v, data, mask uintptr
}

func init() {
	fastWrites.Store(findVectorLayout())
}

func findVectorLayout() bool {
	if duckdb.GetDataChunkCapacity() > maxChunk || unsafe.Sizeof(uintptr(0)) != 8 {
		return false
	}
	vt := reflect.TypeFor[duckdb.Vector]()
	v, ok := vt.FieldByName("v")
	if !ok || v.Type.Kind() != reflect.Pointer || v.Type.Elem().Kind() != reflect.Struct {
		return false
	}
	inner := v.Type.Elem()
	data, ok1 := inner.FieldByName("dataPtr")
	mask, ok2 := inner.FieldByName("maskPtr")
	if !ok1 || !ok2 || data.Type.Kind() != reflect.UnsafePointer || mask.Type.Kind() != reflect.UnsafePointer {
		return false
	}
	vectorLayout.v, vectorLayout.data, vectorLayout.mask = v.Offset, data.Offset, mask.Offset
	return true
}

// newChunk prepares ch for writing the columns of types, in source
// column order.
func newChunk(ch duckdb.DataChunk, types []duckdb.Type, a *arena) (*chunk, error) {
	w := &chunk{ch: ch, arena: a}
	if !fastWrites.Load() || a == nil {
		return w, nil
	}
	w.fast = make([]fastCol, len(types))
	for c, t := range types {
		f := &w.fast[c]
		f.typ = t
		vec, err := ch.GetVector(c)
		if err != nil {
			// Not projected (the only other error, a column index out
			// of range, cannot happen: c ranges over the source's own
			// columns).
			f.skip = true
			continue
		}
		inner := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(&vec), vectorLayout.v))
		if inner == nil {
			return &chunk{ch: ch, arena: a}, nil
		}
		f.data = *(*unsafe.Pointer)(unsafe.Add(inner, vectorLayout.data))
		f.mask = (*[maxChunk / 64]uint64)(*(*unsafe.Pointer)(unsafe.Add(inner, vectorLayout.mask)))
		if f.data == nil || f.mask == nil {
			return &chunk{ch: ch, arena: a}, nil
		}
	}
	return w, nil
}

func (f *fastCol) valid(r int) { f.mask[r>>6] |= 1 << (uint(r) & 63) }

// col returns column c for a fast write of type t, or nil when c is to
// be written by duckdb-go. A type other than the column's is a bug in a
// set func; duckdb-go reports it.
func (w *chunk) col(c int, t duckdb.Type) *fastCol {
	if w.fast == nil {
		return nil
	}
	f := &w.fast[c]
	if f.typ != t {
		return nil
	}
	return f
}

func (w *chunk) null(c, r int) error {
	if w.fast == nil {
		return duckdb.SetChunkValue[any](w.ch, c, r, nil)
	}
	f := &w.fast[c]
	if !f.skip {
		f.mask[r>>6] &^= 1 << (uint(r) & 63)
	}
	return nil
}

func (w *chunk) int64(c, r int, v int64) error {
	f := w.col(c, duckdb.TYPE_BIGINT)
	if f == nil {
		return duckdb.SetChunkValue(w.ch, c, r, v)
	}
	if !f.skip {
		*(*int64)(unsafe.Add(f.data, r*8)) = v
		f.valid(r)
	}
	return nil
}

func (w *chunk) float64(c, r int, v float64) error {
	f := w.col(c, duckdb.TYPE_DOUBLE)
	if f == nil {
		return duckdb.SetChunkValue(w.ch, c, r, v)
	}
	if !f.skip {
		*(*uint64)(unsafe.Add(f.data, r*8)) = math.Float64bits(v)
		f.valid(r)
	}
	return nil
}

func (w *chunk) bool(c, r int, v bool) error {
	f := w.col(c, duckdb.TYPE_BOOLEAN)
	if f == nil {
		return duckdb.SetChunkValue(w.ch, c, r, v)
	}
	if !f.skip {
		var b uint8
		if v {
			b = 1
		}
		*(*uint8)(unsafe.Add(f.data, r)) = b
		f.valid(r)
	}
	return nil
}

// string writes s (possibly empty) as a VARCHAR value.
func (w *chunk) string(c, r int, s string) error {
	f := w.col(c, duckdb.TYPE_VARCHAR)
	if f == nil {
		return duckdb.SetChunkValue(w.ch, c, r, s)
	}
	if f.skip {
		return nil
	}
	if !utf8.ValidString(s) {
		return duckdb.SetChunkValue(w.ch, c, r, s)
	}
	w.putString(f, r, unsafe.StringData(s), len(s))
	return nil
}

// bytes writes b as a VARCHAR value.
func (w *chunk) bytes(c, r int, b []byte) error {
	f := w.col(c, duckdb.TYPE_VARCHAR)
	if f == nil {
		return duckdb.SetChunkValue(w.ch, c, r, b)
	}
	if f.skip {
		return nil
	}
	if !utf8.Valid(b) {
		return duckdb.SetChunkValue(w.ch, c, r, b)
	}
	w.putString(f, r, unsafe.SliceData(b), len(b))
	return nil
}

// putString writes a duckdb_string_t: a uint32 length, then the bytes
// inline (zero padded) when there are at most 12, else the first four
// and a pointer to all of them.
func (w *chunk) putString(f *fastCol, r int, p *byte, n int) {
	dst := unsafe.Add(f.data, r*16)
	out := (*[16]byte)(dst)
	*(*uint32)(dst) = uint32(n)
	if n <= 12 {
		*(*[12]byte)(out[4:]) = [12]byte{}
		if n > 0 {
			copy(out[4:4+n], unsafe.Slice(p, n))
		}
	} else {
		src := unsafe.Slice(p, n)
		copy(out[4:8], src[:4])
		*(*uintptr)(unsafe.Add(dst, 8)) = uintptr(unsafe.Pointer(w.arena.copy(src)))
	}
	f.valid(r)
}

// arena holds the long strings of an Apply's chunks, pinned so that
// DuckDB's vectors may point at them, until reset. Its blocks are kept
// for the next Apply.
type arena struct {
	blocks [][]byte
	cur    int // index of the block being filled
	pin    runtime.Pinner
	pinned int // blocks[:pinned] are pinned
}

const arenaBlock = 4 << 20

// copy returns a pointer to a pinned copy of b.
func (a *arena) copy(b []byte) *byte {
	for {
		if a.cur == len(a.blocks) {
			a.blocks = append(a.blocks, make([]byte, 0, max(arenaBlock, len(b))))
		}
		blk := a.blocks[a.cur]
		if a.pinned <= a.cur {
			a.pin.Pin(unsafe.SliceData(blk[:cap(blk)]))
			a.pinned = a.cur + 1
		}
		if cap(blk)-len(blk) >= len(b) {
			n := len(blk)
			blk = append(blk, b...)
			a.blocks[a.cur] = blk
			return &blk[n]
		}
		a.cur++
	}
}

// reset unpins every block and makes them free for reuse. DuckDB must
// hold no vector pointing into them any more.
func (a *arena) reset() {
	a.pin.Unpin()
	a.pinned = 0
	for i := range a.blocks[:min(a.cur+1, len(a.blocks))] {
		a.blocks[i] = a.blocks[i][:0]
	}
	// Drop oversized or surplus blocks so one huge unit does not pin
	// memory for good.
	keep := a.blocks[:0]
	for _, b := range a.blocks {
		if cap(b) == arenaBlock && len(keep) < 64 {
			keep = append(keep, b)
		}
	}
	clear(a.blocks[len(keep):])
	a.blocks = keep
	a.cur = 0
}

// probeRow is a row of the table probeFastWrites round-trips.
type probeRow struct {
	i    int64
	f    float64
	b    bool
	s    string
	null bool
}

var probeColumns = []column[probeRow]{
	{name: "i", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *probeRow) error {
		if v.null {
			return ch.null(c, r)
		}
		return ch.int64(c, r, v.i)
	}},
	{name: "f", typ: duckdb.TYPE_DOUBLE, set: func(ch *chunk, c, r int, v *probeRow) error {
		if v.null {
			return ch.null(c, r)
		}
		return ch.float64(c, r, v.f)
	}},
	{name: "b", typ: duckdb.TYPE_BOOLEAN, set: func(ch *chunk, c, r int, v *probeRow) error {
		if v.null {
			return ch.null(c, r)
		}
		return ch.bool(c, r, v.b)
	}},
	{name: "s", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *probeRow) error {
		if v.null {
			return ch.null(c, r)
		}
		return ch.string(c, r, v.s)
	}},
}

// probeFastWrites round-trips rows written in place through DuckDB on
// conn (where crest_src is registered) and turns the in-place writes off
// if anything comes back different. Called with the DB's writer lock
// held, before any Apply.
func (d *DB) probeFastWrites(ctx context.Context, conn *sql.Conn) error {
	if !fastWrites.Load() {
		return nil
	}
	var rows []probeRow
	for i := range 3000 { // more than one chunk
		rows = append(rows,
			probeRow{i: int64(i) - 1500, f: float64(i) / 4, b: i%3 == 0, s: fmt.Sprintf("row %d of the probe, long enough", i)},
			probeRow{null: true},
			probeRow{i: math.MinInt64 + int64(i), f: -0.5, s: ""},
			probeRow{i: int64(i), f: math.Inf(1), b: true, s: fmt.Sprintf("ab%010d", i)}, // 12 bytes
			probeRow{i: 7, s: "ünï"},
		)
	}
	t := newTable(probeColumns)
	t.arena = &arena{}
	t.stage(rows)
	d.src.set("crest_probe", t)
	defer func() {
		t.stage(nil)
		t.arena.reset()
		d.src.remove("crest_probe")
	}()
	res, err := conn.QueryContext(ctx, "SELECT i, f, b, s FROM "+sourceFunc+"('crest_probe')")
	if err != nil {
		return fmt.Errorf("probe in-place writes: %w", err)
	}
	defer res.Close()
	n := 0
	ok := true
	for res.Next() {
		var (
			i sql.NullInt64
			f sql.NullFloat64
			b sql.NullBool
			s sql.NullString
		)
		if err := res.Scan(&i, &f, &b, &s); err != nil {
			return fmt.Errorf("probe in-place writes: %w", err)
		}
		if n >= len(rows) {
			ok = false
			break
		}
		want := rows[n]
		if want.null {
			ok = ok && !i.Valid && !f.Valid && !b.Valid && !s.Valid
		} else {
			ok = ok && i.Valid && i.Int64 == want.i && f.Valid && f.Float64 == want.f &&
				b.Valid && b.Bool == want.b && s.Valid && s.String == want.s
		}
		n++
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("probe in-place writes: %w", err)
	}
	if !ok || n != len(rows) {
		fastWrites.Store(false)
	}
	return nil
}
