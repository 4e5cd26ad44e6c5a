package duckdb

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// TestScanSlotsCountsKeys checks which top-level keys Apply counts for
// promotion (scanSlots' count callback).
func TestScanSlotsCountsKeys(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`{}`, nil},
		{`{"a":1,"b":"x","c":true,"d":null}`, []string{"a", "b", "c", "d"}},
		{` { "a" : { "b" : [1, {"c": "}"}] } , "e" : "\"}" , "f":-1.5e3 } `, []string{"a", "e", "f"}},
		{`{"esc\"aped":1,"plain":[],"x":{}}`, []string{"plain", "x"}},
		{`{"a":"unterminated`, []string{"a"}},
		{`[1,2]`, nil},
		{`{"a":1 "b":2}`, []string{"a"}},
		{``, nil},
	}
	for _, c := range cases {
		var got []string
		scanSlots([]byte(c.in), nil, nil, func(k []byte) { got = append(got, string(k)) })
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("scanSlots(%s) counted %q, want %q", c.in, got, c.want)
		}
	}
}

// propEvent is an event with the given property JSON (nil for none).
func propEvent(seq int64, eventProps, userProps string) event.Event {
	e := sparseDemoEvent()
	e.Seq = seq
	if eventProps != "" {
		e.EventProperties = []byte(eventProps)
	}
	if userProps != "" {
		e.UserProperties = []byte(userProps)
	}
	return e
}

// slotsMatchJSON checks that every promoted column holds exactly what
// json_extract_string reads from its JSON column, on every row.
func slotsMatchJSON(t *testing.T, db *DB) {
	t.Helper()
	m := db.promo.slots.Load()
	for k, kind := range propKinds {
		for _, key := range m.keys[k] {
			col := m.cols[k][key]
			var bad int
			q := fmt.Sprintf("SELECT count(*) FROM events WHERE %s IS DISTINCT FROM %s", col, PropertyExpr(kind.column, key))
			if err := db.db.QueryRowContext(t.Context(), q).Scan(&bad); err != nil {
				t.Fatal(err)
			}
			if bad != 0 {
				t.Errorf("%s (%s %q): %d rows differ from the JSON", col, kind.name, key, bad)
			}
		}
	}
}

func TestPromotion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.duckdb")
	db, err := Open(t.Context(), path, Options{PromoteAfter: 3})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(pos uint64, evs ...event.Event) {
		t.Helper()
		if err := db.Apply(t.Context(), &storage.Unit{Position: pos, Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	// Two rows with genre: below the threshold, nothing promoted.
	apply(1,
		propEvent(1, `{"genre":"rock","n":1.50,"nested":{"genre":"inner"}}`, `{"plan":"free"}`),
		propEvent(2, `{"genre":"pop","n":2}`, `{"plan":"paid"}`),
		propEvent(3, "", ""))
	if _, ok := db.PropertyColumn("event_properties", "genre"); ok {
		t.Fatal("genre promoted after 2 rows with PromoteAfter 3")
	}
	// The third genre row promotes it, and backfills the first two.
	apply(2,
		propEvent(4, `{"genre":"jazz","list":[1,"a"],"obj":{"k":"v"}}`, `{"plan":"free","country":"DE"}`),
		propEvent(5, `{"n":3,"genre":null}`, `{"plan":"free"}`))
	col, ok := db.PropertyColumn("event_properties", "genre")
	if !ok || col != "ep_1" && col != "ep_2" {
		t.Fatalf("genre: column %q, %v; want ep_1 or ep_2", col, ok)
	}
	if _, ok := db.PropertyColumn("event_properties", "n"); !ok {
		t.Error("n (3 rows) not promoted")
	}
	if _, ok := db.PropertyColumn("user_properties", "plan"); !ok {
		t.Error("user property plan (5 rows) not promoted")
	}
	if _, ok := db.PropertyColumn("user_properties", "country"); ok {
		t.Error("user property country (1 row) promoted")
	}
	if _, ok := db.PropertyColumn("groups", "genre"); ok {
		t.Error("a column without slots reports one")
	}
	slotsMatchJSON(t, db)
	var genres string
	if err := db.db.QueryRowContext(t.Context(), "SELECT string_agg(coalesce("+col+", '-'), ',' ORDER BY seq) FROM events").Scan(&genres); err != nil {
		t.Fatal(err)
	}
	if genres != "rock,pop,-,jazz,-" {
		t.Errorf("genre column = %s, want rock,pop,-,jazz,- (the nested genre is not the top-level one)", genres)
	}

	// A failed Apply that would promote leaves neither slots nor rows.
	db.applyHook = func(step string) error {
		if step == "events" {
			return errors.New("injected")
		}
		return nil
	}
	if err := db.Apply(t.Context(), &storage.Unit{Position: 3, Events: []event.Event{
		propEvent(6, `{"list":1}`, `{"country":"FR"}`), propEvent(7, `{"list":2}`, `{"country":"FR"}`),
	}}); err == nil {
		t.Fatal("Apply with a failing step succeeded")
	}
	db.applyHook = nil
	if _, ok := db.PropertyColumn("event_properties", "list"); ok {
		t.Error("a rolled-back promotion is visible")
	}
	var n int
	if err := db.db.QueryRowContext(t.Context(), "SELECT count(*) FROM property_columns WHERE key = 'list'").Scan(&n); err != nil || n != 0 {
		t.Errorf("rolled-back promotion rows: %d, %v", n, err)
	}

	// Slots survive a restart, and promotion goes on from them.
	before := db.promo.slots.Load()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(t.Context(), path, Options{PromoteAfter: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.promo.slots.Load(); !reflect.DeepEqual(got.keys, before.keys) {
		t.Errorf("slots after reopen = %v, want %v", got.keys, before.keys)
	}
	// Many keys: slots fill up to their number and no further.
	var props []string
	for i := range 40 {
		props = append(props, fmt.Sprintf(`"k%02d":%d`, i, i))
	}
	apply(4, propEvent(8, "{"+strings.Join(props, ",")+"}", `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}`))
	m := db.promo.slots.Load()
	if len(m.keys[0]) != eventSlots || len(m.keys[1]) != userSlots {
		t.Errorf("slots in use: %d event, %d user; want %d, %d", len(m.keys[0]), len(m.keys[1]), eventSlots, userSlots)
	}
	if len(db.promo.counts[0]) != 0 {
		t.Error("keys are still counted with every event slot taken")
	}
	slotsMatchJSON(t, db)
}
