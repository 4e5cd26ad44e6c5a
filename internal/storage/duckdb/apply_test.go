package duckdb

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// TestApplyDuckDBErrorLeavesNothing fails a unit inside DuckDB (a NOT
// NULL group_type receives invalid UTF-8, which DuckDB turns into NULL or
// rejects) after its events and users were inserted, and checks that the
// transaction took them back with it.
func TestApplyDuckDBErrorLeavesNothing(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "a.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := &storage.Unit{
		Position: 7,
		Events:   []event.Event{sparseDemoEvent()},
		Users:    []storage.User{{ProjectID: 1, AmplitudeID: 1}},
		Groups:   []storage.Group{{ProjectID: 1, GroupType: "\xff\xfe", GroupValue: "v"}},
		Counters: map[string]int64{"seq": 1},
	}
	if err := db.Apply(t.Context(), u); err == nil {
		t.Fatal("Apply of a unit with an invalid group succeeded")
	}
	assertEmpty(t, db)
}

func TestApplyCancelledLeavesNothing(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "c.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(t.Context())
	db.applyHook = func(step string) error {
		if step == "users" {
			cancel()
		}
		return nil
	}
	u := &storage.Unit{Position: 7, Events: []event.Event{sparseDemoEvent()},
		Users: []storage.User{{ProjectID: 1, AmplitudeID: 1}}}
	if err := db.Apply(ctx, u); err == nil {
		t.Fatal("Apply with a cancelled context succeeded")
	}
	db.applyHook = nil
	assertEmpty(t, db)
	if err := db.Apply(t.Context(), u); err != nil {
		t.Fatalf("Apply after a cancelled Apply: %v", err)
	}
}

func assertEmpty(t *testing.T, db *DB) {
	t.Helper()
	ctx := t.Context()
	if pos, err := db.AppliedPosition(ctx); err != nil || pos != 0 {
		t.Errorf("AppliedPosition = %d, %v; want 0", pos, err)
	}
	if n, err := db.CountEvents(ctx, 1); err != nil || n != 0 {
		t.Errorf("CountEvents = %d, %v; want 0", n, err)
	}
	users := 0
	if err := db.LoadUsers(ctx, func(*storage.User) error { users++; return nil }); err != nil || users != 0 {
		t.Errorf("LoadUsers: %d users, %v; want none", users, err)
	}
	if c, err := db.Counters(ctx); err != nil || len(c) != 0 {
		t.Errorf("Counters = %v, %v; want none", c, err)
	}
}

// TestApplyAfterWriterLost checks that Apply opens a new writer
// connection (and registers the source function again) after the old one
// was dropped.
func TestApplyAfterWriterLost(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 3 {
		db.dropWriter()
		u := &storage.Unit{Position: uint64(i + 1), Events: []event.Event{sparseDemoEvent()}}
		if err := db.Apply(t.Context(), u); err != nil {
			t.Fatalf("Apply %d after dropping the writer: %v", i, err)
		}
	}
	if n, err := db.CountEvents(t.Context(), 1); err != nil || n != 3 {
		t.Fatalf("CountEvents = %d, %v; want 3", n, err)
	}
}

// TestApplyLargeUnit applies a unit of many DuckDB chunks and checks
// every event arrived.
func TestApplyLargeUnit(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "l.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 70_000
	if err := db.Apply(t.Context(), demoUnitN(0, n)); err != nil {
		t.Fatal(err)
	}
	if got, err := db.CountEvents(t.Context(), 1); err != nil || got != n {
		t.Fatalf("CountEvents = %d, %v; want %d", got, err, n)
	}
	var first, last int64
	if err := db.db.QueryRowContext(t.Context(), "SELECT min(seq), max(seq) FROM events").Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	if first != 0 || last != n-1 {
		t.Errorf("seq range = [%d, %d]; want [0, %d]", first, last, n-1)
	}
}
