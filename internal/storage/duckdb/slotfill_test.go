package duckdb

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// slotJSON is JSON whose slot values Go must copy exactly or leave to
// DuckDB: every case of slotfill.go.
var slotJSON = []string{
	`{"genre":"rock","n":42}`,
	`{ "genre" : "jazz" , "n" : -7 , "b" : true }`,
	`{"genre":"","n":0,"b":false}`,
	`{"genre":null,"n":null}`,
	`{}`,
	`{"other":1}`,
	`{"genre":"ünïcödé ✓","n":123456789012345678}`,
	`{"genre":"a\"b","n":1}`,                // escaped string: DuckDB
	`{"genre":"a\\u00e9","n":1}`,            // escape: DuckDB
	`{"g\u0065nre":"x","n":2}`,              // escaped key: DuckDB
	`{"genre":"x","genre":"y"}`,             // the key twice: DuckDB
	`{"genre":"x","n":1.5}`,                 // float: DuckDB
	`{"genre":"x","n":1e3}`,                 // exponent: DuckDB
	`{"genre":"x","n":-0}`,                  // negative zero: DuckDB
	`{"genre":"x","n":1234567890123456789}`, // 19 digits: DuckDB
	`{"genre":["a","b"],"n":{"x":1}}`,       // array, object: DuckDB
	`{"genre":"x","b":{"deep":"genre"}}`,
	`{"n":3,"genre":"last"}`,
	"{\n\t\"genre\": \"tabs\",\r\n\"n\": 5\n}",
	`[1,2]`,       // not an object: DuckDB
	`"just text"`, // not an object: DuckDB
}

// TestSlotFillMatchesDuckDB inserts events carrying slotJSON as event
// and user properties, with keys promoted, and checks every slot against
// json_extract_string of the stored JSON: Go's copies and DuckDB's
// deferred rows must agree exactly with what queries on the JSON column
// give.
func TestSlotFillMatchesDuckDB(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "s.duckdb"), Options{PromoteAfter: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// First unit: enough rows with the keys to promote them (the
	// promoting unit is backfilled by DuckDB's UPDATE).
	var warm []event.Event
	for i := range 5 {
		warm = append(warm, event.Event{ProjectID: 1, EventType: "w", DeviceID: "d", Seq: int64(i + 1),
			EventProperties: []byte(`{"genre":"w","n":1,"b":true}`), UserProperties: []byte(`{"genre":"w","n":1}`)})
	}
	if err := db.Apply(t.Context(), &storage.Unit{Position: 1, Events: warm}); err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	for i, js := range slotJSON {
		evs = append(evs,
			event.Event{ProjectID: 1, EventType: "e", DeviceID: "d", Seq: int64(100 + 2*i), EventProperties: []byte(js), UserProperties: []byte(`{"genre":"u"}`)},
			event.Event{ProjectID: 1, EventType: "u", DeviceID: "d", Seq: int64(101 + 2*i), EventProperties: []byte(`{"genre":"e"}`), UserProperties: []byte(js)})
	}
	evs = append(evs, event.Event{ProjectID: 1, EventType: "none", DeviceID: "d", Seq: 999})
	// Both kinds deferred, then a unit where nothing is.
	if err := db.Apply(t.Context(), &storage.Unit{Position: 2, Events: evs}); err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(t.Context(), &storage.Unit{Position: 3, Events: evs[:6]}); err != nil {
		t.Fatal(err)
	}
	if !db.tables.fill.anyDeferred[0] && !db.tables.fill.anyDeferred[1] {
		// The last unit's fill: the first rows need no DuckDB.
	} else {
		t.Errorf("unit of plain rows deferred to DuckDB: %v", db.tables.fill.anyDeferred)
	}
	m := db.promo.slots.Load()
	checked := 0
	for k := range propKinds {
		for _, key := range []string{"genre", "n", "b"} {
			col, ok := m.cols[k][key]
			if !ok {
				t.Fatalf("%s key %q was not promoted", propKinds[k].name, key)
			}
			rows, err := db.QueryContext(t.Context(), "SELECT seq, "+propKinds[k].column+", "+col+", "+
				PropertyExpr(propKinds[k].column, key)+" FROM events ORDER BY seq")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var seq int64
				var js, slot, want sql.NullString
				if err := rows.Scan(&seq, &js, &slot, &want); err != nil {
					t.Fatal(err)
				}
				if slot != want {
					t.Errorf("%s %s of %s (seq %d): slot %v, json_extract_string %v", propKinds[k].column, key, js.String, seq, slot, want)
				}
				checked++
			}
			rows.Close()
		}
	}
	if checked < 6*len(slotJSON) {
		t.Fatalf("checked %d slot values", checked)
	}
}

// TestScanSlots pins which JSON Go copies and which it leaves to DuckDB.
func TestScanSlots(t *testing.T) {
	index := map[string]int{"genre": 0, "n": 1}
	for _, c := range []struct {
		js       string
		ok       bool
		genre, n string // "NULL" for NULL
	}{
		{`{"genre":"rock","n":42}`, true, "rock", "42"},
		{`{ "genre" : "jazz" , "n" : -7 }`, true, "jazz", "-7"},
		{`{"genre":null}`, true, "NULL", "NULL"},
		{`{}`, true, "NULL", "NULL"},
		{`{"genre":true,"n":false}`, true, "true", "false"},
		{`{"genre":"a\"b"}`, false, "", ""},
		{`{"genre":"x","genre":"y"}`, false, "", ""},
		{`{"n":1.5}`, false, "", ""},
		{`{"n":-0}`, false, "", ""},
		{`{"n":01}`, false, "", ""},
		{`{"genre":[1]}`, false, "", ""},
		{`[1]`, false, "", ""},
		{`{"genre":"x"`, false, "", ""},
		{`{"other":{"genre":"x"},"n":1}`, true, "NULL", "1"},
	} {
		slots := []slotVal{{n: -1}, {n: -1}}
		ok := scanSlots([]byte(c.js), index, slots, nil)
		if ok != c.ok {
			t.Errorf("%s: ok %v, want %v", c.js, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		got := func(v slotVal) string {
			if v.n < 0 {
				return "NULL"
			}
			return c.js[v.off : v.off+v.n]
		}
		if got(slots[0]) != c.genre || got(slots[1]) != c.n {
			t.Errorf("%s: genre %q n %q, want %q %q", c.js, got(slots[0]), got(slots[1]), c.genre, c.n)
		}
	}
}
