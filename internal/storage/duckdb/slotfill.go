package duckdb

import (
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/crest-analytics/crest/internal/event"
)

// Promoted slots filled in Go.
//
// A slot holds what json_extract_string(column, '$."key"') gives
// (promote.go). Apply used to have DuckDB compute that for every row at
// insert, parsing each JSON column once more: ~0.6 µs an event on the
// writer. slotFill finds the values in Go instead, for the values whose
// text json_extract_string returns unchanged: a string without escapes
// (its bytes between the quotes), true, false, a plain integer of at most
// 18 digits; JSON null and a missing key are NULL. Any other case in a
// row — a float, an object or array, an escaped string or key, a slot key
// twice, JSON that is not an object — leaves that row's slots of that
// column to DuckDB, through a flag column and a CASE in the INSERT, so
// the stored values are exactly json_extract_string's either way
// (TestSlotFillMatchesDuckDB compares the two on tricky JSON).

// slotVal locates one slot value inside its event's JSON column: bytes
// [off, off+n), or NULL when n < 0.
type slotVal struct{ off, n int32 }

// slotFill holds the slot values of one Apply's events.
type slotFill struct {
	m      *slotMap
	base   [len(propKinds)]int // index of the kind's first slot in a row
	stride int                 // slots per row, over all kinds
	vals   []slotVal           // row-major, len(events)*stride
	// deferred[r] has bit k set when row r's kind-k slots are left to
	// DuckDB; anyDeferred[k] when some row's are.
	deferred    []uint8
	anyDeferred [len(propKinds)]bool
	present     []bool // per slot: some row has a value in Go
	index       [len(propKinds)]map[string]int
}

// fill computes the slot values of events under the slot map m, and,
// when p is not nil, counts the top-level keys of each kind p is
// counting (p.count) in the same pass. It reuses the buffers of the
// previous call.
func (f *slotFill) fill(m *slotMap, events []event.Event, p *promoter) {
	f.m = m
	f.stride = 0
	for k := range propKinds {
		f.base[k] = f.stride
		f.stride += len(m.keys[k])
		if f.index[k] == nil || len(f.index[k]) != len(m.keys[k]) {
			f.index[k] = make(map[string]int, len(m.keys[k]))
			for i, key := range m.keys[k] {
				f.index[k][key] = i
			}
		}
		f.anyDeferred[k] = false
	}
	f.vals = grow(f.vals, len(events)*f.stride)
	f.deferred = grow(f.deferred, len(events))
	f.present = grow(f.present, f.stride)
	clear(f.present)
	var counters [len(propKinds)]func(key []byte)
	scan := f.stride > 0
	for k := range propKinds {
		if p != nil && p.counting(k) {
			counters[k] = func(key []byte) { p.count(k, key) }
			scan = true
		}
	}
	if !scan {
		return
	}
	for r := range events {
		f.deferred[r] = 0
		row := f.vals[r*f.stride : (r+1)*f.stride]
		for i := range row {
			row[i] = slotVal{n: -1}
		}
		for k := range propKinds {
			if len(m.keys[k]) == 0 && counters[k] == nil {
				continue
			}
			b := propKinds[k].get(&events[r])
			if b == nil {
				continue
			}
			slots := row[f.base[k] : f.base[k]+len(m.keys[k])]
			if !scanSlots(b, f.index[k], slots, counters[k]) && len(slots) > 0 {
				f.deferred[r] |= 1 << k
				f.anyDeferred[k] = true
				for i := range slots {
					slots[i] = slotVal{n: -1}
				}
				continue
			}
			for i, v := range slots {
				if v.n >= 0 {
					f.present[f.base[k]+i] = true
				}
			}
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// scanSlots sets slots[index[key]] for each top-level member of the JSON
// object b whose key has a slot, and calls count (when not nil) with
// each other top-level key that needs no unescaping. It returns false when b
// has anything it cannot copy exactly (see above); slots are then to be
// ignored. Malformed JSON ends the scan.
func scanSlots(b []byte, index map[string]int, slots []slotVal, count func(key []byte)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	ok := true
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end, escaped := scanString(b, i)
		if end < 0 {
			return false
		}
		slot, has := 0, false
		if escaped {
			ok = false // it might unescape to a slot's key
		} else {
			key := b[i+1 : end-1]
			slot, has = index[string(key)]
			if count != nil && !has {
				count(key) // a key with a slot needs no counting
			}
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		vend := skipValue(b, i)
		if vend < 0 {
			return false
		}
		if has && ok {
			v, plain := plainValue(b, i, vend)
			switch {
			case slots[slot].n != -1 || !plain:
				ok = false // the key twice, or a value to leave to DuckDB
			case v.n < 0:
				slots[slot].n = -2 // null: NULL, but seen
			default:
				slots[slot] = v
			}
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
	for s := range slots {
		if slots[s].n == -2 {
			slots[s].n = -1
		}
	}
	return ok
}

// plainValue classifies the JSON value b[i:end]: its text as
// json_extract_string returns it, NULL for null, or !ok.
func plainValue(b []byte, i, end int) (slotVal, bool) {
	switch c := b[i]; {
	case c == '"':
		if _, escaped := scanString(b, i); escaped {
			return slotVal{}, false
		}
		return slotVal{off: int32(i + 1), n: int32(end - i - 2)}, true
	case c == 'n':
		return slotVal{n: -1}, string(b[i:end]) == "null"
	case c == 't' || c == 'f':
		if s := string(b[i:end]); s == "true" || s == "false" {
			return slotVal{off: int32(i), n: int32(end - i)}, true
		}
		return slotVal{}, false
	case c == '-' || (c >= '0' && c <= '9'):
		d := b[i:end]
		if d[0] == '-' {
			d = d[1:]
		}
		if len(d) == 0 || len(d) > 18 || (d[0] == '0' && (len(d) > 1 || b[i] == '-')) {
			return slotVal{}, false
		}
		for _, x := range d {
			if x < '0' || x > '9' {
				return slotVal{}, false
			}
		}
		return slotVal{off: int32(i), n: int32(end - i)}, true
	}
	return slotVal{}, false
}

// slotColumns are the events source's columns for the slots and the
// per-kind defer flags, reading fill; they are absent unless the Apply's
// fill has values (or deferred rows) for them.
func slotColumns(f *slotFill) []column[event.Event] {
	var cols []column[event.Event]
	for k := range propKinds {
		kind := &propKinds[k]
		for i := range kind.slots {
			cols = append(cols, column[event.Event]{
				name: fmt.Sprintf("%s%d", kind.prefix, i+1), typ: duckdb.TYPE_VARCHAR,
				set: func(ch *chunk, c, r int, e *event.Event) error {
					v := f.vals[(ch.base+r)*f.stride+f.base[k]+i]
					if v.n < 0 {
						return ch.null(c, r)
					}
					return ch.bytes(c, r, kind.get(e)[v.off:v.off+v.n])
				},
				absent: func(*event.Event) bool { return !f.served(k, i) },
			})
		}
		cols = append(cols, column[event.Event]{
			name: deferColumn(k), typ: duckdb.TYPE_BOOLEAN,
			set: func(ch *chunk, c, r int, _ *event.Event) error {
				return ch.bool(c, r, f.deferred[ch.base+r]&(1<<k) != 0)
			},
			absent: func(*event.Event) bool { return !f.anyDeferred[k] },
		})
	}
	return cols
}

func deferColumn(k int) string { return "crest_defer_" + propKinds[k].name }

// served reports whether slot i of kind k is a column of this Apply's
// source: it has a value somewhere, or some row defers the kind (the
// INSERT's CASE then reads the column).
func (f *slotFill) served(k, i int) bool {
	if f.m == nil || i >= len(f.m.keys[k]) {
		return false
	}
	return f.anyDeferred[k] || f.present[f.base[k]+i]
}
