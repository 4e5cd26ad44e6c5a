package clickhouse

import (
	"fmt"
	"strings"
)

// column collects one column of an insert block as the typed slice the
// native protocol's column-wise Append takes, so a block costs no
// per-value reflection.
type column interface {
	add(v any) error
	values() any
}

// newColumn returns a builder for a column of ClickHouse type typ (as
// written in schema.go) with room for n values.
func newColumn(typ string, n int) (column, error) {
	base := typ
	if i := strings.Index(base, " CODEC("); i >= 0 {
		base = base[:i]
	}
	if inner, ok := strings.CutPrefix(base, "LowCardinality("); ok {
		base = strings.TrimSuffix(inner, ")")
	}
	switch base {
	case "Int64":
		return &plain[int64]{v: make([]int64, 0, n)}, nil
	case "UInt64":
		return &plain[uint64]{v: make([]uint64, 0, n)}, nil
	case "UInt8":
		return &plain[uint8]{v: make([]uint8, 0, n)}, nil
	case "String":
		return &plain[string]{v: make([]string, 0, n)}, nil
	case "Array(String)":
		return &plain[[]string]{v: make([][]string, 0, n)}, nil
	case "Nullable(String)":
		return &nullable[string]{v: make([]*string, 0, n)}, nil
	case "Nullable(Int64)":
		return &nullable[int64]{v: make([]*int64, 0, n)}, nil
	case "Nullable(Float64)":
		return &nullable[float64]{v: make([]*float64, 0, n)}, nil
	}
	return nil, fmt.Errorf("no column builder for type %q", typ)
}

type plain[T any] struct{ v []T }

func (c *plain[T]) add(v any) error {
	x, ok := v.(T)
	if !ok {
		return fmt.Errorf("value %T, want %T", v, x)
	}
	c.v = append(c.v, x)
	return nil
}

func (c *plain[T]) values() any { return c.v }

type nullable[T any] struct {
	v    []*T
	vals []T // backing store for the pointers, one allocation per block
}

func (c *nullable[T]) add(v any) error {
	if v == nil {
		c.v = append(c.v, nil)
		return nil
	}
	x, ok := v.(T)
	if !ok {
		return fmt.Errorf("value %T, want %T", v, x)
	}
	if c.vals == nil {
		c.vals = make([]T, 0, cap(c.v))
	}
	c.vals = append(c.vals, x)
	c.v = append(c.v, &c.vals[len(c.vals)-1])
	return nil
}

func (c *nullable[T]) values() any { return c.v }
