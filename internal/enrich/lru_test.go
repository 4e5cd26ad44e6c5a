package enrich

import (
	"slices"
	"testing"
)

// TestLRU runs operations on a 3-entry cache: "+k" adds k, "?k" looks k up
// and must find it, "!k" looks k up and must miss.
func TestLRU(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []string
	}{
		{"fill and evict oldest", []string{"+a", "+b", "+c", "+d", "!a", "?b", "?c", "?d"}},
		{"get refreshes", []string{"+a", "+b", "+c", "?a", "+d", "?a", "!b", "?c", "?d"}},
		{"re-add refreshes", []string{"+a", "+b", "+c", "+a", "+d", "?a", "!b"}},
		{"evict repeatedly", []string{"+a", "+b", "+c", "+d", "+e", "+f", "!a", "!b", "!c", "?d", "?e", "?f"}},
		{"empty", []string{"!a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newLRU[string, *device](3)
			vals := map[string]*device{}
			for i, op := range tc.ops {
				k := op[1:]
				switch op[0] {
				case '+':
					vals[k] = &device{osName: k}
					c.add(k, vals[k])
				case '?':
					got, ok := c.get(k)
					if !ok || got != vals[k] {
						t.Fatalf("op %d %s: get = %v, %v; want the value added", i, op, got, ok)
					}
				case '!':
					if _, ok := c.get(k); ok {
						t.Fatalf("op %d %s: key still cached", i, op)
					}
				}
				if c.len() > 3 {
					t.Fatalf("op %d: %d entries, cap 3", i, c.len())
				}
			}
		})
	}
}

func TestLRUSizeOne(t *testing.T) {
	c := newLRU[string, *device](0) // clamped to 1
	c.add("a", &device{})
	c.add("b", &device{})
	var keys []string
	for _, k := range []string{"a", "b"} {
		if _, ok := c.get(k); ok {
			keys = append(keys, k)
		}
	}
	if !slices.Equal(keys, []string{"b"}) {
		t.Errorf("cached keys = %v, want [b]", keys)
	}
}
