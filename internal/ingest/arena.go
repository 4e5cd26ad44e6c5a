package ingest

import (
	"unicode/utf8"
	"unsafe"
)

// b2s views b as a string without copying; b must not change while the
// string is in use.
func b2s(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// arena holds the strings and property texts kept from one request, so that
// decoding a batch costs a few large allocations instead of one per string.
// Bytes once handed out are never written again: a chunk only grows by
// appending, and a full chunk is replaced by a fresh one (the old chunk stays
// alive as long as anything points into it).
type arena struct {
	buf []byte
}

func newArena(size int) arena {
	return arena{buf: make([]byte, 0, max(size, 256))}
}

func (a *arena) reserve(n int) {
	if cap(a.buf)-len(a.buf) >= n {
		return
	}
	a.buf = make([]byte, 0, max(n, 2*cap(a.buf), 4096))
}

// str returns a copy of s, truncated to maxStringChars characters and made
// valid UTF-8, that lives in the arena.
func (a *arena) str(s string) string {
	s = truncate(s)
	if len(s) == 0 {
		return ""
	}
	if !utf8.ValidString(s) {
		start := a.mark(len(s) * 3)
		for _, r := range s { // invalid bytes come out as U+FFFD
			a.buf = utf8.AppendRune(a.buf, r)
		}
		return b2s(a.buf[start:])
	}
	a.reserve(len(s))
	start := len(a.buf)
	a.buf = append(a.buf, s...)
	return b2s(a.buf[start:])
}

// mark reserves room for about n bytes and returns the offset at which the
// caller starts appending to a.buf.
func (a *arena) mark(n int) int {
	a.reserve(n)
	return len(a.buf)
}

// bytesFrom returns a.buf[start:] with its capacity capped, so an append by
// a later owner cannot overwrite what follows it.
func (a *arena) bytesFrom(start int) []byte {
	return a.buf[start:len(a.buf):len(a.buf)]
}
