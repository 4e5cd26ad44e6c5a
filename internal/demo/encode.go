package demo

import (
	"math/rand/v2"
	"strconv"
)

// mix is SplitMix64's finaliser: it spreads a seed and a user index into
// well-distributed PCG seeds, so neighbouring users get unrelated streams.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// seedUser points src at user n's own stream for the run's seed. Every
// random choice about a user comes from that stream, so a user's events
// depend on nothing but (seed, n).
func seedUser(src *rand.PCG, seed int64, n int) {
	s := mix(uint64(seed))
	src.Seed(s, mix(s^mix(uint64(n)+1)))
}

const hexDigits = "0123456789abcdef"

// appendUUID appends a version 4 UUID made of r's next 128 bits, in the
// canonical lowercase 8-4-4-4-12 form.
func appendUUID(b []byte, r *rand.Rand) []byte {
	return appendUUIDBits(b, r.Uint64(), r.Uint64(), hexDigits)
}

func appendUUIDBits(b []byte, hi, lo uint64, digits string) []byte {
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	for i := 15; i >= 0; i-- {
		b = append(b, digits[(hi>>(uint(i)*4))&0xf])
		if i == 8 || i == 4 || i == 0 {
			b = append(b, '-')
		}
	}
	for i := 15; i >= 0; i-- {
		b = append(b, digits[(lo>>(uint(i)*4))&0xf])
		if i == 12 {
			b = append(b, '-')
		}
	}
	return b
}

// appendStr appends s as a JSON string. Catalog strings need no escaping;
// the escaper is there so that a future catalog entry cannot break the JSON.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendKV appends `,"key":"value"`.
func appendKV(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendStr(b, value)
}

// appendKInt appends `,"key":n`.
func appendKInt(b []byte, key string, n int64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, n, 10)
}

// appendCents appends cents as a decimal amount with two places (999 → 9.99).
func appendCents(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	c := cents % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// appendKCents appends `,"key":9.99`.
func appendKCents(b []byte, key string, cents int64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendCents(b, cents)
}

// pick returns a uniformly chosen element of s.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }
