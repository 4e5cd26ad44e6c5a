package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
	"github.com/crest-analytics/crest/internal/storage/clickhouse"
	"github.com/crest-analytics/crest/internal/storage/duckdb"
)

// migrateTarget returns a clickhouse:// URL with a fresh database, from
// CREST_TEST_CLICKHOUSE (see scripts/ci-services.sh).
func migrateTarget(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("CREST_TEST_CLICKHOUSE")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CREST_TEST_CLICKHOUSE is not set; scripts/ci-services.sh starts the server")
		}
		t.Skip("CREST_TEST_CLICKHOUSE is not set; run scripts/ci-services.sh and source /tmp/crest-ci-services.env")
	}
	o, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	db := "crest_migrate_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		c := ch.OpenDB(&ch.Options{Addr: []string{o.Addr}})
		c.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+db) //nolint:errcheck // best effort
		c.Close()
	})
	return fmt.Sprintf("clickhouse://%s/%s?node=serve-a", o.Addr, db)
}

func TestMigrate(t *testing.T) {
	to := migrateTarget(t)
	ctx := t.Context()
	dir := t.TempDir()
	src, err := duckdb.Open(ctx, filepath.Join(dir, "events.duckdb"), duckdb.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	rev := 2.5
	var evs []event.Event
	for i := range 25 {
		e := event.Event{ProjectID: 1 + int64(i%2), EventType: "Play", DeviceID: fmt.Sprintf("device-%d", i%4),
			Time: 1700000000000 + int64(i), ClientEventTime: 1700000000000, ServerReceivedTime: 1700000000000,
			ServerUploadTime: 1700000000000, SessionID: event.NoSession, EventID: event.NoEventID,
			InsertID: fmt.Sprintf("ins-%d", i), AmplitudeID: 1 + int64(i%4), Seq: 1 + int64(i),
			EventProperties: []byte(`{"genre":"rock"}`)}
		if i%3 == 0 {
			e.Revenue, e.UserID = &rev, "user-x"
		}
		evs = append(evs, e)
	}
	u := &storage.Unit{Position: 900, Events: evs,
		Users:    []storage.User{{ProjectID: 1, AmplitudeID: 1, UserID: "user-x", DeviceIDs: []string{"device-0"}}, {ProjectID: 2, AmplitudeID: 2}},
		Devices:  []storage.Device{{ProjectID: 1, DeviceID: "device-0", AmplitudeID: 1}},
		UserIDs:  []storage.UserID{{ProjectID: 1, UserID: "user-x", AmplitudeID: 1}},
		Merges:   []storage.Merge{{ProjectID: 1, FromID: 3, IntoID: 1}},
		Sessions: []storage.Session{{ProjectID: 1, AmplitudeID: 1, SessionID: 5, Start: 1, LastEvent: 2, EventCount: 2}},
		Groups:   []storage.Group{{ProjectID: 2, GroupType: "org", GroupValue: "acme"}},
		Counters: map[string]int64{"amplitude_id": 5, "seq": 26}}
	if err := src.Apply(ctx, u); err != nil {
		t.Fatal(err)
	}
	src.Close()

	// An earlier run that stopped after the first block of 7 events.
	o, err := clickhouse.ParseDSN(to)
	if err != nil {
		t.Fatal(err)
	}
	partial := o
	partial.Node = "migrate-all"
	pdb, err := clickhouse.Open(ctx, partial)
	if err != nil {
		t.Fatal(err)
	}
	if err := pdb.Apply(ctx, &storage.Unit{Position: 7, Events: evs[:7]}); err != nil {
		t.Fatal(err)
	}
	pdb.Close()

	for i := range 2 { // each run resumes after the last: nothing twice
		var out, errOut bytes.Buffer
		if err := run(ctx, []string{"migrate", "--data", dir, "--to", to, "--batch", "7"}, &out, &errOut); err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, errOut.String())
		}
		if !strings.Contains(errOut.String(), "25/25") {
			t.Errorf("run %d: progress does not reach 25/25:\n%s", i, errOut.String())
		}
	}
	dst, err := clickhouse.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for p, want := range map[int64]int64{1: 13, 2: 12} {
		if n, err := dst.CountEvents(ctx, p); err != nil || n != want {
			t.Errorf("project %d: %d events, %v; want %d", p, n, err, want)
		}
	}
	got, err := dst.EventsByInsertID(ctx, 1, "ins-0")
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], evs[0]) {
		t.Errorf("event ins-0 = %+v, %v; want %+v", got, err, evs[0])
	}
	if pos, err := dst.AppliedPosition(ctx); err != nil || pos != 900 {
		t.Errorf("serving node's position = %d, %v; want 900", pos, err)
	}
	if c, err := dst.Counters(ctx); err != nil || !reflect.DeepEqual(c, u.Counters) {
		t.Errorf("serving node's counters = %v, %v; want %v", c, err, u.Counters)
	}
	var users []storage.User
	if err := dst.LoadUsers(ctx, func(v *storage.User) error { users = append(users, *v); return nil }); err != nil || len(users) != 2 {
		t.Errorf("users = %+v, %v; want 2", users, err)
	}
	var sessions []storage.Session
	if err := dst.Sessions(ctx, 1, func(v *storage.Session) error { sessions = append(sessions, *v); return nil }); err != nil ||
		!reflect.DeepEqual(sessions, u.Sessions) {
		t.Errorf("sessions = %+v, %v; want %+v", sessions, err, u.Sessions)
	}
}
