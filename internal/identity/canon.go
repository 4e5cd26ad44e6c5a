package identity

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// appendCanon appends the canonical JSON text of v to dst: compact, object
// keys sorted bytewise by their unescaped text (recursively), strings
// escaped the same way every time, numbers kept exactly as sent.
// Canonical text lets property values be compared by their bytes.
func appendCanon(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		type entry struct {
			k []byte
			v *fastjson.Value
		}
		es := make([]entry, 0, o.Len())
		o.Visit(func(k []byte, v *fastjson.Value) { es = append(es, entry{k, v}) })
		slices.SortStableFunc(es, func(a, b entry) int { return bytes.Compare(a.k, b.k) })
		// A repeated key keeps its last value, as most JSON decoders do.
		dst = append(dst, '{')
		n := 0
		for i, e := range es {
			if i+1 < len(es) && bytes.Equal(es[i+1].k, e.k) {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = appendString(dst, e.k)
			dst = append(dst, ':')
			dst = appendCanon(dst, e.v)
		}
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendCanon(dst, e)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return appendString(dst, s)
	default: // number (raw text), true, false, null
		return v.MarshalTo(dst)
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Only what JSON requires is
// escaped (quote, backslash, control characters); invalid UTF-8 is
// replaced by U+FFFD so that the output is always valid JSON.
func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// number is a JSON number read exactly: an int64 when the text is an
// integer that fits, a float64 otherwise.
type number struct {
	isInt bool
	i     int64
	f     float64
}

// parseNumber reads a JSON number's text (or the content of a numeric
// string). It reports false for anything that is not a finite number.
func parseNumber(s []byte) (number, bool) {
	if len(s) == 0 {
		return number{}, false
	}
	str := string(s)
	if i, err := strconv.ParseInt(str, 10, 64); err == nil {
		return number{isInt: true, i: i}, true
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return number{}, false
	}
	return number{f: f}, true
}

// numberOf reads a number from a canonical JSON value: a JSON number or a
// string holding one (SDKs allow "5" for $add).
func numberOf(raw []byte) (number, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		inner := raw[1 : len(raw)-1]
		if bytes.IndexByte(inner, '\\') >= 0 {
			return number{}, false
		}
		return parseNumber(bytes.TrimSpace(inner))
	}
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return number{}, false
	}
	return parseNumber(raw)
}

func (n number) float() float64 {
	if n.isInt {
		return float64(n.i)
	}
	return n.f
}

// addNumbers adds exactly when both are integers and the sum does not
// overflow; otherwise in float64. It reports false for an infinite sum.
func addNumbers(a, b number) (number, bool) {
	if a.isInt && b.isInt {
		s := a.i + b.i
		if (s > a.i) == (b.i > 0) {
			return number{isInt: true, i: s}, true
		}
	}
	f := a.float() + b.float()
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return number{}, false
	}
	return number{f: f}, true
}

// appendNumber appends n as JSON: integers as integers, floats in the
// shortest form that reads back exactly (exponent only outside [1e-6, 1e21),
// as encoding/json does).
func appendNumber(dst []byte, n number) []byte {
	if n.isInt {
		return strconv.AppendInt(dst, n.i, 10)
	}
	abs := math.Abs(n.f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(dst, n.f, 'e', -1, 64)
	}
	return strconv.AppendFloat(dst, n.f, 'f', -1, 64)
}
