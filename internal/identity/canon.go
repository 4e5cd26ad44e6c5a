package identity

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
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
			dst = event.AppendJSONString(dst, e.k)
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
		return event.AppendJSONString(dst, s)
	default: // number (raw text), true, false, null
		return v.MarshalTo(dst)
	}
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
