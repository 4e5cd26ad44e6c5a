package identity

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
)

// Property operations in the order they are applied (spec §2).
const (
	opClearAll = iota
	opUnset
	opSet
	opSetOnce
	opAdd
	opAppend
	opPrepend
	opPreInsert
	opPostInsert
	opRemove
	numOps
)

var opNames = [numOps]string{
	"$clearAll", "$unset", "$set", "$setOnce", "$add",
	"$append", "$prepend", "$preInsert", "$postInsert", "$remove",
}

// opIndex returns the operation named by key, or -1 for a plain property.
func opIndex(key []byte) int {
	if len(key) < 4 || key[0] != '$' {
		return -1
	}
	for i, n := range opNames {
		if string(key) == n {
			return i
		}
	}
	return -1
}

// kv is one property of a table: the unescaped key and the canonical JSON
// value, both pointing into the applier's arena.
type kv struct {
	k, v []byte
}

// applier applies property operations to a property table. It owns
// reusable scratch space, so it is used by one goroutine at a time; the
// Resolver's mutex guarantees that.
type applier struct {
	pIn, pCur, pTmp fastjson.Parser

	arena []byte
	kvs   []kv
	ops   [numOps][]*fastjson.Value
	plain []kv
	elems [][]byte
	args  [][]byte
}

// load starts a change of the table whose current text is cur (a
// canonical JSON object, or nil for empty).
func (a *applier) load(cur []byte) error {
	a.arena = a.arena[:0]
	a.kvs = a.kvs[:0]
	if len(cur) == 0 {
		return nil
	}
	v, err := a.pCur.ParseBytes(cur)
	if err != nil {
		return fmt.Errorf("parse properties: %w", err)
	}
	o, err := v.Object()
	if err != nil {
		return fmt.Errorf("parse properties: %w", err)
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		a.kvs = append(a.kvs, kv{k: a.keep(k), v: a.canon(v)})
	})
	if !slices.IsSortedFunc(a.kvs, cmpKV) {
		slices.SortStableFunc(a.kvs, cmpKV)
	}
	return nil
}

func cmpKV(x, y kv) int { return bytes.Compare(x.k, y.k) }

// keep copies b into the arena.
func (a *applier) keep(b []byte) []byte {
	start := len(a.arena)
	a.arena = append(a.arena, b...)
	return a.arena[start:len(a.arena):len(a.arena)]
}

// canon writes v's canonical text into the arena.
func (a *applier) canon(v *fastjson.Value) []byte {
	start := len(a.arena)
	a.arena = appendCanon(a.arena, v)
	return a.arena[start:len(a.arena):len(a.arena)]
}

func (a *applier) find(k []byte) (int, bool) {
	return slices.BinarySearchFunc(a.kvs, k, func(e kv, k []byte) int { return bytes.Compare(e.k, k) })
}

func (a *applier) get(k []byte) ([]byte, bool) {
	i, ok := a.find(k)
	if !ok {
		return nil, false
	}
	return a.kvs[i].v, true
}

func (a *applier) set(k, v []byte) {
	i, ok := a.find(k)
	if ok {
		a.kvs[i].v = v
		return
	}
	a.kvs = slices.Insert(a.kvs, i, kv{k: a.keep(k), v: v})
}

func (a *applier) del(k []byte) {
	if i, ok := a.find(k); ok {
		a.kvs = slices.Delete(a.kvs, i, i+1)
	}
}

// marshal returns the table as a new compact JSON object with sorted keys,
// or nil when the table is empty.
func (a *applier) marshal() []byte {
	if len(a.kvs) == 0 {
		return nil
	}
	n := 1
	for _, e := range a.kvs {
		n += len(e.k) + len(e.v) + 4
	}
	out := make([]byte, 0, n+8)
	out = append(out, '{')
	for i, e := range a.kvs {
		if i > 0 {
			out = append(out, ',')
		}
		out = event.AppendJSONString(out, e.k)
		out = append(out, ':')
		out = append(out, e.v...)
	}
	return append(out, '}')
}

// parseOps parses an operations object (user_properties or
// group_properties as sent) into a.ops and a.plain. It reports false when
// ops is not a JSON object.
func (a *applier) parseOps(ops []byte) bool {
	for i := range a.ops {
		a.ops[i] = a.ops[i][:0]
	}
	a.plain = a.plain[:0]
	v, err := a.pIn.ParseBytes(ops)
	if err != nil {
		return false
	}
	o, err := v.Object()
	if err != nil {
		return false
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		if i := opIndex(k); i >= 0 {
			a.ops[i] = append(a.ops[i], v)
			return
		}
		a.plain = append(a.plain, kv{k: a.keep(k), v: a.canon(v)})
	})
	return true
}

// applyParsed applies what parseOps found, in the spec's order, then the
// plain keys as $set.
func (a *applier) applyParsed() {
	if len(a.ops[opClearAll]) > 0 {
		a.kvs = a.kvs[:0]
	}
	for _, v := range a.ops[opUnset] {
		switch v.Type() {
		case fastjson.TypeObject:
			o, _ := v.Object()
			o.Visit(func(k []byte, _ *fastjson.Value) { a.del(k) })
		case fastjson.TypeArray: // tolerated: a list of property names
			arr, _ := v.Array()
			for _, e := range arr {
				if s, err := e.StringBytes(); err == nil {
					a.del(s)
				}
			}
		case fastjson.TypeString:
			s, _ := v.StringBytes()
			a.del(s)
		}
	}
	for op := opSet; op < numOps; op++ {
		for _, v := range a.ops[op] {
			o, err := v.Object()
			if err != nil {
				continue // an operation whose argument is not an object is ignored
			}
			o.Visit(func(k []byte, v *fastjson.Value) { a.applyOne(op, k, v) })
		}
	}
	for _, p := range a.plain {
		a.set(p.k, p.v)
	}
}

// applyOne applies one operation to property k with argument v.
func (a *applier) applyOne(op int, k []byte, v *fastjson.Value) {
	switch op {
	case opSet:
		a.set(k, a.canon(v))
	case opSetOnce:
		if _, ok := a.get(k); !ok {
			a.set(k, a.canon(v))
		}
	case opAdd:
		arg, ok := numberOf(a.canon(v))
		if !ok {
			return // non-numeric argument: no change
		}
		cur := number{isInt: true}
		if raw, ok := a.get(k); ok && string(raw) != "null" {
			if cur, ok = numberOf(raw); !ok {
				return // non-numeric current value: no change
			}
		}
		sum, ok := addNumbers(cur, arg)
		if !ok {
			return
		}
		start := len(a.arena)
		a.arena = appendNumber(a.arena, sum)
		a.set(k, a.arena[start:len(a.arena):len(a.arena)])
	case opAppend, opPrepend, opPreInsert, opPostInsert:
		a.args = a.argElems(a.args[:0], v)
		cur, ok := a.get(k)
		a.elems = a.elems[:0]
		if ok {
			a.elems = a.curElems(a.elems, cur)
		}
		start := len(a.arena)
		a.arena = append(a.arena, '[')
		n := 0
		put := func(e []byte) {
			if n > 0 {
				a.arena = append(a.arena, ',')
			}
			n++
			a.arena = append(a.arena, e...)
		}
		switch op {
		case opAppend:
			for _, e := range a.elems {
				put(e)
			}
			for _, e := range a.args {
				put(e)
			}
		case opPrepend:
			for _, e := range a.args {
				put(e)
			}
			for _, e := range a.elems {
				put(e)
			}
		case opPreInsert:
			for i, e := range a.args {
				if !contains(a.elems, e) && !contains(a.args[:i], e) {
					put(e)
				}
			}
			for _, e := range a.elems {
				put(e)
			}
		case opPostInsert:
			for _, e := range a.elems {
				put(e)
			}
			for i, e := range a.args {
				if !contains(a.elems, e) && !contains(a.args[:i], e) {
					put(e)
				}
			}
		}
		a.arena = append(a.arena, ']')
		a.set(k, a.arena[start:len(a.arena):len(a.arena)])
	case opRemove:
		cur, ok := a.get(k)
		if !ok {
			return
		}
		a.args = a.argElems(a.args[:0], v)
		if cur[0] != '[' {
			// A scalar is a one-element list: removing it leaves an empty list.
			if contains(a.args, cur) {
				a.set(k, []byte("[]"))
			}
			return
		}
		a.elems = a.curElems(a.elems[:0], cur)
		start := len(a.arena)
		a.arena = append(a.arena, '[')
		n := 0
		for _, e := range a.elems {
			if contains(a.args, e) {
				continue
			}
			if n > 0 {
				a.arena = append(a.arena, ',')
			}
			n++
			a.arena = append(a.arena, e...)
		}
		a.arena = append(a.arena, ']')
		a.set(k, a.arena[start:len(a.arena):len(a.arena)])
	}
}

// argElems lists an operation's argument values: each element of an
// array, or the single value.
func (a *applier) argElems(dst [][]byte, v *fastjson.Value) [][]byte {
	if v.Type() == fastjson.TypeArray {
		arr, _ := v.Array()
		for _, e := range arr {
			dst = append(dst, a.canon(e))
		}
		return dst
	}
	return append(dst, a.canon(v))
}

// curElems lists the elements of a current value: the elements of an
// array, nothing for null, or the scalar (or object) itself as the one
// element (scalar-to-list coercion).
func (a *applier) curElems(dst [][]byte, raw []byte) [][]byte {
	switch {
	case string(raw) == "null":
		return dst
	case raw[0] != '[':
		return append(dst, raw)
	}
	v, err := a.pTmp.ParseBytes(raw)
	if err != nil {
		return dst
	}
	arr, _ := v.Array()
	for _, e := range arr {
		dst = append(dst, a.canon(e))
	}
	return dst
}

func contains(list [][]byte, e []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, e) {
			return true
		}
	}
	return false
}

// change applies ops (an operations object as sent) to the table cur and
// returns the new table text and whether it differs from cur. When sets
// is not nil its entries are applied as $set after ops (setGroup). An
// unreadable cur or ops leaves the table unchanged.
func (a *applier) change(cur, ops []byte, sets []kv) ([]byte, bool) {
	if err := a.load(cur); err != nil {
		return cur, false
	}
	if len(ops) > 0 {
		if !a.parseOps(ops) {
			return cur, false
		}
		a.applyParsed()
	}
	for _, s := range sets {
		a.set(s.k, s.v)
	}
	out := a.marshal()
	if bytes.Equal(out, cur) {
		return cur, false
	}
	return out, true
}

// fill copies into the table cur every property of extra that cur lacks
// (used when an anonymous id is merged into a user). It returns the new
// table and whether it changed.
func (a *applier) fill(cur, extra []byte) ([]byte, bool) {
	if len(extra) == 0 {
		return cur, false
	}
	if err := a.load(cur); err != nil {
		return cur, false
	}
	v, err := a.pIn.ParseBytes(extra)
	if err != nil {
		return cur, false
	}
	o, err := v.Object()
	if err != nil {
		return cur, false
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		if _, ok := a.get(k); !ok {
			a.set(k, a.canon(v))
		}
	})
	out := a.marshal()
	if bytes.Equal(out, cur) {
		return cur, false
	}
	return out, true
}
