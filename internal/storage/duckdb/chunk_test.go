package duckdb

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// TestFastWritesOn fails when the in-place chunk writes (chunk.go) or
// the writer's own statement loop (writer.go) are off: a duckdb-go
// upgrade that changes its unexported state, or a DuckDB that lays
// vectors out differently, would otherwise cost a good part of Apply's
// throughput without a word.
func TestFastWritesOn(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "f.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !fastWrites.Load() {
		t.Fatal("in-place chunk writes are off: the reflection or the round-trip probe failed (chunk.go)")
	}
	if !db.wraw {
		t.Fatal("the writer runs its statements through database/sql: no DuckDB handle found (writer.go)")
	}
}

// TestFastWritesMatchDuckDBGo applies the same units through the
// in-place writes and through duckdb-go's setters, into two stores, and
// demands identical tables: every column type, NULLs, strings of 0, 12,
// 13 and many bytes (ASCII and not), several chunks, lists.
func TestFastWritesMatchDuckDBGo(t *testing.T) {
	if !fastWrites.Load() {
		t.Fatal("in-place chunk writes are off")
	}
	units := fastWriteUnits()
	dump := func(fast bool) map[string]string {
		fastWrites.Store(fast)
		defer fastWrites.Store(true)
		db, err := Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"), Options{PromoteAfter: 100})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, u := range units {
			if err := db.Apply(t.Context(), u); err != nil {
				t.Fatal(err)
			}
		}
		out := map[string]string{}
		for _, table := range []string{"events", "dedup", "users", "devices", "user_ids", "merges", "sessions", "groups", "counters"} {
			rows, err := db.QueryContext(t.Context(), "SELECT * FROM "+table+" ORDER BY ALL")
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			var b strings.Builder
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			n := 0
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "%q\n", fmt.Sprint(vals...))
				n++
			}
			rows.Close()
			if n == 0 {
				t.Fatalf("table %s is empty: the units do not exercise it", table)
			}
			out[table] = b.String()
		}
		return out
	}
	fast, slow := dump(true), dump(false)
	for table, want := range slow {
		if got := fast[table]; got != want {
			gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("table %s differs at row %d:\n in place: %s\n duckdb-go: %s", table, i, gl[i], wl[i])
				}
			}
			t.Fatalf("table %s: %d rows in place, %d through duckdb-go", table, len(gl), len(wl))
		}
	}
}

func fastWriteUnits() []*storage.Unit {
	strs := []string{"", "a", "exactly12chr", "thirteen-char", "ünïcödé", "a string well beyond twelve bytes, with ünïcödé in it", strings.Repeat("x", 5000)}
	var units []*storage.Unit
	seq := int64(1)
	for k := range 3 {
		u := &storage.Unit{Position: uint64(k + 1), Counters: map[string]int64{"next_seq": seq + 5000, "c-" + strs[k+2]: int64(k)}}
		for i := range 2500 + k*1000 {
			s := func(j int) string { return strs[(i+j)%len(strs)] }
			f := float64(i) / 8
			q := int64(i % 5)
			e := event.Event{
				ProjectID: int64(1 + i%2), EventType: s(0), UserID: s(1), DeviceID: fmt.Sprintf("device-%d", i%300),
				Time: 1700000000000 + seq, ClientEventTime: 1700000000000 + seq, ServerReceivedTime: 1700000000000 + seq,
				ServerUploadTime: 1700000000000 + seq, SessionID: int64(i / 10), EventID: int64(i), Seq: seq,
				InsertID: s(2), AmplitudeID: int64(i%300 + 1), Platform: s(3), Country: s(4), City: s(5), UserAgent: s(6),
				EventProperties: fmt.Appendf(nil, `{"genre":%q,"n":%d,"f":1.5e3,"s":"a\"b"}`, s(1), i),
				UserProperties:  fmt.Appendf(nil, `{"plan":%q}`, s(4)),
			}
			if i%3 == 0 {
				e.LocationLat, e.Revenue, e.Quantity = &f, &f, &q
				e.Groups = []byte(`{"company":"acme"}`)
			}
			if i%7 == 0 {
				e.EventID = event.NoEventID
			}
			u.Events = append(u.Events, e)
			u.Dedup = append(u.Dedup, storage.DedupKey{Hash: [16]byte{byte(seq), byte(seq >> 8), byte(k)}, Time: seq})
			seq++
		}
		for i := range 300 {
			var devices []string
			if i%4 != 0 {
				devices = []string{fmt.Sprintf("device-%d", i), strs[i%len(strs)]}
			}
			u.Users = append(u.Users, storage.User{ProjectID: 1, AmplitudeID: int64(i + 1), UserID: strs[i%len(strs)],
				Properties: []byte(`{"plan":"free"}`), FirstSeen: int64(i), LastSeen: int64(i + k), DeviceIDs: devices,
				FirstPlatform: strs[(i+1)%len(strs)], MergedInto: int64(i % 3)})
			u.Devices = append(u.Devices, storage.Device{ProjectID: 1, DeviceID: fmt.Sprintf("device-%d", i), AmplitudeID: int64(i + 1), AnonymousID: int64(i)})
			u.UserIDs = append(u.UserIDs, storage.UserID{ProjectID: 1, UserID: fmt.Sprintf("user-%d-%s", i, strs[i%len(strs)]), AmplitudeID: int64(i + 1)})
			u.Merges = append(u.Merges, storage.Merge{ProjectID: 1, FromID: int64(i + 1000), IntoID: int64(i + 1), Time: int64(i), EventSeq: int64(i), DeviceID: strs[i%len(strs)], Undone: i%2 == 0})
			u.Sessions = append(u.Sessions, storage.Session{ProjectID: 1, AmplitudeID: int64(i + 1), SessionID: int64(i % 7), Start: int64(i), LastEvent: int64(i + 5), EventCount: 2})
			u.Groups = append(u.Groups, storage.Group{ProjectID: 1, GroupType: "company", GroupValue: fmt.Sprintf("g-%d-%s", i, strs[i%len(strs)]), Properties: []byte(`{"size":3}`)})
		}
		units = append(units, u)
	}
	return units
}
