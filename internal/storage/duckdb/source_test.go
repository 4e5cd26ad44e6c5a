package duckdb

import (
	"fmt"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/crest-analytics/crest/internal/event"
)

// TestPresentColumns checks which columns the source serves: those
// without an absent func always, the others when some row has a value.
func TestPresentColumns(t *testing.T) {
	type row struct{ a, b string }
	cols := []column[row]{
		{name: "always", typ: duckdb.TYPE_VARCHAR},
		{name: "a", typ: duckdb.TYPE_VARCHAR, absent: func(r *row) bool { return r.a == "" }},
		{name: "b", typ: duckdb.TYPE_VARCHAR, absent: func(r *row) bool { return r.b == "" }},
	}
	for _, tc := range []struct {
		rows []row
		want []bool
	}{
		{nil, []bool{true, false, false}},
		{[]row{{}}, []bool{true, false, false}},
		{[]row{{a: "x"}}, []bool{true, true, false}},
		{[]row{{}, {}, {b: "y"}}, []bool{true, false, true}},
		{[]row{{b: "y"}, {a: "x"}, {}}, []bool{true, true, true}},
	} {
		t.Run(fmt.Sprint(tc.rows), func(t *testing.T) {
			if got := presentColumns(cols, tc.rows); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("presentColumns = %v; want %v", got, tc.want)
			}
		})
	}
}

// TestSourceSelectionPerUnit checks that the cached column selection
// follows the staged rows from one unit to the next.
func TestSourceSelectionPerUnit(t *testing.T) {
	tab := newEventsTable(&slotFill{})
	names := func() []string {
		var out []string
		for _, ci := range tab.source().ColumnInfos() {
			out = append(out, ci.Name)
		}
		return out
	}
	sparse := sparseDemoEvent()
	tab.stage([]event.Event{sparse})
	n1 := len(names())
	full := demoUnitN(0, 1).Events
	tab.stage(full)
	n2 := len(names())
	tab.stage([]event.Event{sparse})
	if n3 := len(names()); n1 >= n2 || n3 != n1 {
		t.Errorf("columns served: sparse %d, demo %d, sparse again %d; want sparse < demo, same sparse twice", n1, n2, n3)
	}
}
