package duckdb

import (
	"fmt"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// sourceFunc is the table function through which Apply inserts rows:
// `SELECT * FROM crest_src('events')` streams the rows staged under that
// name, filling DuckDB data chunks column by column. It is faster than
// the row-wise Appender and, unlike it, runs inside the writer's SQL
// transaction (docs/storage.md).
const sourceFunc = "crest_src"

// column is one output column of a staged table: its name, SQL type and
// how to write row i of the staged rows into a chunk.
type column[T any] struct {
	name string
	typ  duckdb.Type
	list bool // a LIST of typ
	set  func(ch *chunk, col, row int, v *T) error
	// absent, if set, reports that v's value is stored as NULL. A column
	// absent from every staged row is left out of the source, so the
	// INSERT ... BY NAME fills it with NULL without a per-row cgo call.
	absent func(v *T) bool
}

// rowSource serves a slice of rows as a DuckDB chunk table source.
type rowSource[T any] struct {
	cols  []column[T]
	infos []duckdb.ColumnInfo
	types []duckdb.Type
	rows  []T
	next  int
	arena *arena
}

func (s *rowSource[T]) ColumnInfos() []duckdb.ColumnInfo { return s.infos }

func (s *rowSource[T]) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(len(s.rows)), Exact: true}
}

func (s *rowSource[T]) Init() {}

func (s *rowSource[T]) FillChunk(ch duckdb.DataChunk) error {
	n := min(duckdb.GetDataChunkCapacity(), len(s.rows)-s.next)
	rows := s.rows[s.next : s.next+n]
	w, err := newChunk(ch, s.types, s.arena)
	if err != nil {
		return err
	}
	w.base = s.next
	for c := range s.cols {
		set := s.cols[c].set
		for r := range rows {
			if err := set(w, c, r, &rows[r]); err != nil {
				return fmt.Errorf("column %s: %w", s.cols[c].name, err)
			}
		}
	}
	s.next += n
	return ch.SetSize(n)
}

// staged is a named table of rows, ready to serve as a fresh source.
type staged interface {
	source() duckdb.ChunkTableSource
}

// table is a staged slice of rows with its columns.
type table[T any] struct {
	cols  []column[T]
	infos []duckdb.ColumnInfo
	rows  []T
	// arena holds the long strings written in place (chunk.go) until
	// the transaction that reads them ends; nil writes through duckdb-go.
	arena *arena
	// sel caches the columns served for rows: DuckDB binds the source
	// twice per statement (prepare, then execute). reset drops it.
	sel *rowSource[T]
}

func newTable[T any](cols []column[T]) *table[T] {
	infos := make([]duckdb.ColumnInfo, len(cols))
	for i, c := range cols {
		ti, err := duckdb.NewTypeInfo(c.typ)
		if err == nil && c.list {
			ti, err = duckdb.NewListInfo(ti)
		}
		if err != nil {
			panic(fmt.Sprintf("BUG: column %s: %v", c.name, err))
		}
		infos[i] = duckdb.ColumnInfo{Name: c.name, T: ti}
	}
	return &table[T]{cols: cols, infos: infos}
}

// stage sets the rows to serve.
func (t *table[T]) stage(rows []T) {
	t.rows = rows
	t.sel = nil
}

func (t *table[T]) source() duckdb.ChunkTableSource {
	if t.sel == nil {
		t.sel = &rowSource[T]{}
		present := presentColumns(t.cols, t.rows)
		for i, c := range t.cols {
			if present[i] {
				t.sel.cols = append(t.sel.cols, c)
				t.sel.infos = append(t.sel.infos, t.infos[i])
				typ := c.typ
				if c.list {
					typ = duckdb.TYPE_LIST
				}
				t.sel.types = append(t.sel.types, typ)
			}
		}
	}
	return &rowSource[T]{cols: t.sel.cols, infos: t.sel.infos, types: t.sel.types, rows: t.rows, arena: t.arena}
}

// presentColumns reports, per column, whether some row has a value in
// it: columns without an absent func always, the others unless absent in
// every row. It walks the rows once, row by row (a pass per column over
// large rows is memory-bound), and stops once every column is present.
func presentColumns[T any](cols []column[T], rows []T) []bool {
	present := make([]bool, len(cols))
	var open []int // columns absent in every row so far
	for i, c := range cols {
		if c.absent == nil {
			present[i] = true
		} else {
			open = append(open, i)
		}
	}
	for r := 0; r < len(rows) && len(open) > 0; r++ {
		row := &rows[r]
		for j := 0; j < len(open); {
			if c := open[j]; !cols[c].absent(row) {
				present[c] = true
				open[j] = open[len(open)-1]
				open = open[:len(open)-1]
				continue
			}
			j++
		}
	}
	return present
}

// sources holds the tables staged for the current Apply, by name.
type sources struct {
	mu     sync.Mutex
	tables map[string]staged
}

func newSources() *sources { return &sources{tables: make(map[string]staged)} }

func (s *sources) set(name string, t staged) {
	s.mu.Lock()
	s.tables[name] = t
	s.mu.Unlock()
}

func (s *sources) remove(name string) {
	s.mu.Lock()
	delete(s.tables, name)
	s.mu.Unlock()
}

func (s *sources) tableFunction() duckdb.ChunkTableFunction {
	varchar, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		panic(fmt.Sprintf("BUG: %v", err))
	}
	return duckdb.ChunkTableFunction{
		Config: duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{varchar}},
		BindArguments: func(_ map[string]any, args ...any) (duckdb.ChunkTableSource, error) {
			name, _ := args[0].(string)
			s.mu.Lock()
			t, ok := s.tables[name]
			s.mu.Unlock()
			if !ok {
				return nil, fmt.Errorf("%s: no staged table %q", sourceFunc, name)
			}
			return t.source(), nil
		},
	}
}

// Typed chunk writers. Empty strings and nil JSON are stored as NULL.

func setInt(ch *chunk, c, r int, v int64) error { return ch.int64(c, r, v) }

func setNull(ch *chunk, c, r int) error { return ch.null(c, r) }

func setStr(ch *chunk, c, r int, s string) error {
	if s == "" {
		return ch.null(c, r)
	}
	return ch.string(c, r, s)
}

func setJSON(ch *chunk, c, r int, b []byte) error {
	if b == nil {
		return ch.null(c, r)
	}
	return ch.bytes(c, r, b)
}

func setIntPtr(ch *chunk, c, r int, v *int64) error {
	if v == nil {
		return ch.null(c, r)
	}
	return ch.int64(c, r, *v)
}

func setFloatPtr(ch *chunk, c, r int, v *float64) error {
	if v == nil {
		return ch.null(c, r)
	}
	return ch.float64(c, r, *v)
}

// setIntOr writes v, or NULL when v equals absent.
func setIntOr(ch *chunk, c, r int, v, absent int64) error {
	if v == absent {
		return ch.null(c, r)
	}
	return ch.int64(c, r, v)
}
