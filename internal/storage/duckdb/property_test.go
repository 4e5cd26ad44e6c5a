package duckdb

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

func TestPropertyExpr(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "p.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := sparseDemoEvent()
	e.EventProperties = []byte(`{"genre":"rock","duration_ms":181000,"a.b":"dot","it's":"quote",` +
		`"say \"hi\"":"escaped","back\\slash":"bs","nested":{"x":1},"list":[1,2],"nil":null}`)
	if err := db.Apply(t.Context(), &storage.Unit{Position: 1, Events: []event.Event{e}}); err != nil {
		t.Fatal(err)
	}
	f := func(key string, want sql.NullString) {
		t.Helper()
		var got sql.NullString
		q := "SELECT " + PropertyExpr("event_properties", key) + " FROM events"
		if err := db.db.QueryRowContext(t.Context(), q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("PropertyExpr(%q) = %+v, want %+v", key, got, want)
		}
	}
	ok := func(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }
	f("genre", ok("rock"))
	f("duration_ms", ok("181000"))
	f("a.b", ok("dot"))
	f("it's", ok("quote"))
	f(`say "hi"`, ok("escaped"))
	f(`back\slash`, ok("bs"))
	f("nested", ok(`{"x":1}`))
	f("list", ok("[1,2]"))
	f("nil", sql.NullString{})
	f("missing", sql.NullString{})

	var dur float64
	if err := db.db.QueryRowContext(t.Context(), "SELECT TRY_CAST("+PropertyExpr("event_properties", "duration_ms")+" AS DOUBLE) FROM events").Scan(&dur); err != nil || dur != 181000 {
		t.Fatalf("numeric read = %v, %v; want 181000", dur, err)
	}
}

func TestPruneDedup(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "d.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := []storage.DedupKey{{Hash: [16]byte{1}, Time: 100}, {Hash: [16]byte{2}, Time: 200}, {Hash: [16]byte{3}, Time: 300}}
	if err := db.Apply(t.Context(), &storage.Unit{Position: 1, Dedup: keys}); err != nil {
		t.Fatal(err)
	}
	if err := db.PruneDedup(t.Context(), 200); err != nil {
		t.Fatal(err)
	}
	var got []storage.DedupKey
	if err := db.LoadDedup(t.Context(), 0, func(k storage.DedupKey) error { got = append(got, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Time < 200 || got[1].Time < 200 {
		t.Fatalf("after PruneDedup(200): %+v, want the keys at 200 and 300", got)
	}
}

func TestOpenExistingKeepsSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.duckdb")
	for range 2 {
		db, err := Open(t.Context(), path, Options{MemoryLimit: "512MB", Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		var n, v int
		if err := db.db.QueryRowContext(t.Context(), "SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		if n != len(migrations) || v != len(migrations) {
			t.Fatalf("schema_migrations has %d rows, version %d; want %d", n, v, len(migrations))
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
