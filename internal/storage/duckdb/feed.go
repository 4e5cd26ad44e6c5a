package duckdb

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// feedFunc is the scalar function through which a query hands integers
// to Go in bulk (FeedInts): crest_feed(token, x) passes x to the feed
// the constant token names and returns NULL-free garbage.
const feedFunc = "crest_feed"

// feeds are the collectors of running FeedInts calls, by token.
type feeds struct {
	next atomic.Int64
	m    sync.Map // int64 → *collector
}

// collector gathers the values of one FeedInts call. DuckDB calls the
// function on its worker threads, a chunk (≤ 2,048 rows) at a time.
type collector struct {
	mu     sync.Mutex
	chunks [][]int64
}

// feedUDF is crest_feed.
type feedUDF struct{ f *feeds }

func (u feedUDF) Config() duckdb.ScalarFuncConfig {
	bigint, _ := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	return duckdb.ScalarFuncConfig{
		InputTypeInfos:      []duckdb.TypeInfo{bigint, bigint},
		ResultTypeInfo:      bigint,
		Volatile:            true, // never folded or deduplicated: every row counts
		SpecialNullHandling: true,
	}
}

func (u feedUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: func(_ context.Context, st *duckdb.ChunkIteratorState) error {
		ch := st.GetInputChunk()
		n := ch.GetSize()
		if n == 0 {
			return nil
		}
		tok, err := ch.GetValue(0, 0)
		if err != nil {
			return err
		}
		t, _ := tok.(int64)
		v, ok := u.f.m.Load(t)
		if !ok {
			return fmt.Errorf("%s: unknown feed %d", feedFunc, t)
		}
		c := v.(*collector)
		vals, err := chunkInts(ch, 1, n)
		if err != nil {
			return err
		}
		zeroResult(st.GetResultVector(), n)
		c.mu.Lock()
		c.chunks = append(c.chunks, vals)
		c.mu.Unlock()
		return nil
	}}
}

// chunkInts copies column col (BIGINT, no NULLs) of the n-row chunk
// ch. It reads the vector's data in place: duckdb-go gives typed
// access to VARCHAR vectors only and boxes every other value (~70 ns a
// value here, against ~1 ns), so the data pointer is read from the
// chunk's unexported column state. The first and last values are
// checked against the boxed getter; any difference (a layout change in
// a new duckdb-go, or a vector that is not flat) falls back to it.
func chunkInts(ch *duckdb.DataChunk, col, n int) ([]int64, error) {
	slow := func() ([]int64, error) {
		vals := make([]int64, n)
		for r := range n {
			x, err := ch.GetValue(col, r)
			if err != nil {
				return nil, err
			}
			i, ok := x.(int64)
			if !ok {
				return nil, fmt.Errorf("%s: value %v (%T) is not a BIGINT", feedFunc, x, x)
			}
			vals[r] = i
		}
		return vals, nil
	}
	cols := reflect.ValueOf(ch).Elem().FieldByName("columns")
	if !cols.IsValid() || cols.Kind() != reflect.Slice || col >= cols.Len() {
		return slow()
	}
	f := cols.Index(col).FieldByName("dataPtr")
	if !f.IsValid() || f.Kind() != reflect.UnsafePointer || !f.CanAddr() {
		return slow()
	}
	ptr := *(*unsafe.Pointer)(unsafe.Pointer(f.UnsafeAddr()))
	if ptr == nil {
		return slow()
	}
	vals := make([]int64, n)
	copy(vals, unsafe.Slice((*int64)(ptr), n))
	for _, r := range []int{0, n - 1} {
		x, err := ch.GetValue(col, r)
		if err != nil {
			return nil, err
		}
		if i, ok := x.(int64); !ok || i != vals[r] {
			return slow()
		}
	}
	return vals, nil
}

// zeroResult sets the n BIGINT results of a crest_feed call to 0 (the
// statement aggregates them), writing the vector's data in place like
// chunkInts reads it; if the layout is not the expected one the results
// stay as DuckDB allocated them, which the statement ignores anyway.
func zeroResult(vec duckdb.Vector, n int) {
	v := reflect.ValueOf(&vec).Elem().FieldByName("v")
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	f := v.Elem().FieldByName("dataPtr")
	if !f.IsValid() || f.Kind() != reflect.UnsafePointer || !f.CanAddr() {
		return
	}
	if ptr := *(*unsafe.Pointer)(unsafe.Pointer(f.UnsafeAddr())); ptr != nil {
		clear(unsafe.Slice((*int64)(ptr), n))
	}
}

// registerFeed registers crest_feed; DuckDB's catalog makes it visible
// to every connection.
func (d *DB) registerFeed(ctx context.Context) error {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("register %s: %w", feedFunc, err)
	}
	defer conn.Close()
	if err := duckdb.RegisterScalarUDF(conn, feedFunc, feedUDF{d.feeds}); err != nil {
		return fmt.Errorf("register %s: %w", feedFunc, err)
	}
	return nil
}

// FeedInts implements query.IntFeeder: build returns the statement to
// run given feed, which wraps a BIGINT expression into the call that
// hands its value to Go on every row it is evaluated on. The statement
// returns one row: the number of rows that must have been handed over
// (checked), then anything. FeedInts
// returns every value handed over, in no particular order, in chunks.
// The statement runs on DuckDB's worker threads and the values never
// pass through text or database/sql rows: this is how the funnel kernel
// gets its events (docs/funnels.md).
func (d *DB) FeedInts(ctx context.Context, build func(feed func(x string) string) string) ([][]int64, error) {
	tok := d.feeds.next.Add(1)
	c := &collector{}
	d.feeds.m.Store(tok, c)
	defer d.feeds.m.Delete(tok)
	q := build(func(x string) string { return fmt.Sprintf("%s(%d, %s)", feedFunc, tok, x) })
	var want int64
	if err := d.db.QueryRowContext(ctx, q).Scan(&want, new(any)); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	got := 0
	for _, ch := range c.chunks {
		got += len(ch)
	}
	if int64(got) != want {
		return nil, fmt.Errorf("%s: %d values handed over for %d rows", feedFunc, got, want)
	}
	return c.chunks, nil
}
