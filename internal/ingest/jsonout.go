package ingest

import (
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
)

// maxStringChars is Amplitude's cap on string values (spec §1.2, §1.10):
// longer strings are truncated to this many characters.
const maxStringChars = 1024

// maxPropertyDepth is the deepest nesting accepted inside a property object
// (spec §1.2: "nesting depth ≤ 40"). The property object itself is depth 1.
const maxPropertyDepth = 40

// truncate cuts s to at most maxStringChars characters. Each invalid UTF-8
// byte counts as one character.
func truncate(s string) string {
	if len(s) <= maxStringChars {
		return s
	}
	n := 0
	for i := 0; i < len(s); {
		if n == maxStringChars {
			return s[:i]
		}
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		n++
	}
	return s
}

// appendQuoted appends s as a JSON string, truncated to maxStringChars
// characters, with invalid UTF-8 replaced by U+FFFD.
func appendQuoted(dst []byte, s string) []byte {
	return event.AppendJSONString(dst, truncate(s))
}

// validNumber reports whether s follows the JSON number grammar
// (fastjson also accepts NaN, Inf and malformed numbers).
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	switch {
	case s[i] == '0':
		i++
	case s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

// appendJSON appends v as compact JSON. String values (at any depth) are
// truncated and made valid UTF-8; keys are re-escaped. It reports false when
// v holds a malformed number or nests deeper than maxPropertyDepth; dst is
// then garbage past its original length.
func appendJSON(dst []byte, v *fastjson.Value, depth int) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeObject:
		if depth > maxPropertyDepth {
			return dst, false
		}
		o, _ := v.Object()
		dst = append(dst, '{')
		ok := true
		first := true
		o.Visit(func(k []byte, vv *fastjson.Value) {
			if !ok {
				return
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendKey(dst, k)
			dst = append(dst, ':')
			dst, ok = appendJSON(dst, vv, depth+1)
		})
		return append(dst, '}'), ok
	case fastjson.TypeArray:
		if depth > maxPropertyDepth {
			return dst, false
		}
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, vv := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendJSON(dst, vv, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendQuoted(dst, b2s(b)), true
	case fastjson.TypeNumber:
		start := len(dst)
		dst = v.MarshalTo(dst)
		return dst, validNumber(b2s(dst[start:]))
	default: // true, false, null
		return v.MarshalTo(dst), true
	}
}

// appendKey appends an object key, escaped but not truncated.
func appendKey(dst []byte, k []byte) []byte {
	return event.AppendJSONString(dst, b2s(k))
}
