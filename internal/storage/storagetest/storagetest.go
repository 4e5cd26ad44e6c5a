// Package storagetest is the conformance suite every storage backend
// runs: the same Units in, the same state and events out.
package storagetest

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// Backend is what the suite needs from a store under test.
type Backend interface {
	storage.Writer
	storage.Loader
	// Close releases the store.
	Close() error
	// Reopen opens the same store again after Close, as a process
	// restart would.
	Reopen(t *testing.T) Backend
	// CountEvents returns the number of stored events of a project.
	CountEvents(ctx context.Context, projectID int64) (int64, error)
	// EventsByInsertID returns a project's stored events with insert_id,
	// in seq order, decoded back into events. Absent values (empty
	// strings, nil JSON, nil pointers, NoEventID, zero client upload
	// time) must come back as they went in.
	EventsByInsertID(ctx context.Context, projectID int64, insertID string) ([]event.Event, error)
	// Sessions calls fn for each session of a project with its partials
	// combined (min Start, max LastEvent, sum EventCount).
	Sessions(ctx context.Context, projectID int64, fn func(*storage.Session) error) error
	// SetApplyHook makes each later Apply call hook before each of its
	// writes, named after the row kind ("events", "dedup", "users",
	// "devices", "user_ids", "merges", "sessions", "groups",
	// "counters") and finally "position". A hook error must abort the
	// Apply and leave nothing of the unit behind. nil removes the hook.
	SetApplyHook(hook func(step string) error)
}

// Run runs the conformance suite. open must return a new, empty store
// on each call; the suite closes what it opens.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	cases := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) Backend)
	}{
		{"EmptyStore", testEmptyStore},
		{"RoundTrip", testRoundTrip},
		{"UpsertsReplace", testUpsertsReplace},
		{"SessionPartialsCombine", testSessionPartials},
		{"PersistAcrossReopen", testPersist},
		{"FailedApplyLeavesNothing", testFailedApply},
		{"ProjectsApart", testProjectsApart},
		{"DedupSince", testDedupSince},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }

// fullEvent sets every stored field of event.Event.
func fullEvent(project int64, insertID string, seq int64) event.Event {
	return event.Event{
		ProjectID: project, EventType: "Play Song", UserID: "user-1", DeviceID: "device-1",
		Time: 1700000000000 + seq, ClientEventTime: 1700000000001, ClientUploadTime: 1700000000002,
		ServerReceivedTime: 1700000000003, ServerUploadTime: 1700000000004,
		SessionID: 1699999990000, EventID: 12, InsertID: insertID,
		EventProperties: []byte(`{"genre":"rock","duration_ms":181000}`),
		UserProperties:  []byte(`{"plan":"premium"}`), UserPropertyOps: []byte(`{"$set":{"plan":"premium"}}`),
		Groups: []byte(`{"org":"acme"}`), GroupProperties: []byte(`{"org":{"tier":"gold"}}`),
		AppVersion: "2.1.0", StartVersion: "1.0.0", Platform: "iOS", OSName: "ios", OSVersion: "17.1",
		DeviceBrand: "Apple", DeviceManufacturer: "Apple", DeviceModel: "iPhone15,2", DeviceType: "phone",
		DeviceFamily: "iPhone", Carrier: "T-Mobile", Browser: "Safari",
		Country: "Germany", Region: "Berlin", City: "Berlin", DMA: "none", Language: "de",
		LocationLat: f64(52.52), LocationLng: f64(13.405), IP: "192.0.2.1", UserAgent: "ua/1.0",
		Price: f64(0.99), Quantity: i64(2), Revenue: f64(1.98), ProductID: "p-1", RevenueType: "purchase",
		Currency: "EUR", IDFA: "idfa", IDFV: "idfv", ADID: "adid", AndroidID: "aid", AndroidAppSetID: "asid",
		Library: "amplitude-ts/2.0", Plan: []byte(`{"branch":"main"}`), IngestionMetadata: []byte(`{"source_name":"x"}`),
		PartnerID: "partner", Paying: "true", AmplitudeID: 42, Seq: seq,
	}
}

// sparseEvent leaves every optional field absent.
func sparseEvent(project int64, insertID string, seq int64) event.Event {
	return event.Event{
		ProjectID: project, EventType: "$identify", DeviceID: "device-2", Time: 1700000000000 + seq,
		ClientEventTime: 1700000000000, ServerReceivedTime: 1700000000000, ServerUploadTime: 1700000000000,
		SessionID: event.NoSession, EventID: event.NoEventID, InsertID: insertID, AmplitudeID: 43, Seq: seq,
	}
}

func apply(t *testing.T, b Backend, u *storage.Unit) {
	t.Helper()
	if err := b.Apply(t.Context(), u); err != nil {
		t.Fatalf("apply position %d: %v", u.Position, err)
	}
}

func testEmptyStore(t *testing.T, open func(t *testing.T) Backend) {
	b := open(t)
	defer b.Close()
	ctx := t.Context()
	pos, err := b.AppliedPosition(ctx)
	if err != nil || pos != 0 {
		t.Fatalf("AppliedPosition = %d, %v; want 0, nil", pos, err)
	}
	c, err := b.Counters(ctx)
	if err != nil || len(c) != 0 {
		t.Fatalf("Counters = %v, %v; want empty", c, err)
	}
	if n, err := b.CountEvents(ctx, 1); err != nil || n != 0 {
		t.Fatalf("CountEvents = %d, %v; want 0", n, err)
	}
}

// state is everything the Loader returns, sorted for comparison.
type state struct {
	Position uint64
	Counters map[string]int64
	Dedup    []storage.DedupKey
	Users    []storage.User
	Devices  []storage.Device
	UserIDs  []storage.UserID
	Merges   []storage.Merge
	Groups   []storage.Group
}

func load(t *testing.T, b Backend) state {
	t.Helper()
	ctx := t.Context()
	var s state
	var err error
	if s.Position, err = b.AppliedPosition(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Counters, err = b.Counters(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(b.LoadDedup(ctx, 0, func(k storage.DedupKey) error { s.Dedup = append(s.Dedup, k); return nil }))
	check(b.LoadUsers(ctx, func(v *storage.User) error { s.Users = append(s.Users, *v); return nil }))
	check(b.LoadDevices(ctx, func(v *storage.Device) error { s.Devices = append(s.Devices, *v); return nil }))
	check(b.LoadUserIDs(ctx, func(v *storage.UserID) error { s.UserIDs = append(s.UserIDs, *v); return nil }))
	check(b.LoadMerges(ctx, func(v *storage.Merge) error { s.Merges = append(s.Merges, *v); return nil }))
	check(b.LoadGroups(ctx, func(v *storage.Group) error { s.Groups = append(s.Groups, *v); return nil }))
	sort.Slice(s.Dedup, func(i, j int) bool { return string(s.Dedup[i].Hash[:]) < string(s.Dedup[j].Hash[:]) })
	sort.Slice(s.Users, func(i, j int) bool {
		return s.Users[i].ProjectID < s.Users[j].ProjectID ||
			s.Users[i].ProjectID == s.Users[j].ProjectID && s.Users[i].AmplitudeID < s.Users[j].AmplitudeID
	})
	sort.Slice(s.Devices, func(i, j int) bool {
		return s.Devices[i].ProjectID < s.Devices[j].ProjectID ||
			s.Devices[i].ProjectID == s.Devices[j].ProjectID && s.Devices[i].DeviceID < s.Devices[j].DeviceID
	})
	sort.Slice(s.UserIDs, func(i, j int) bool {
		return s.UserIDs[i].ProjectID < s.UserIDs[j].ProjectID ||
			s.UserIDs[i].ProjectID == s.UserIDs[j].ProjectID && s.UserIDs[i].UserID < s.UserIDs[j].UserID
	})
	sort.Slice(s.Merges, func(i, j int) bool {
		return s.Merges[i].ProjectID < s.Merges[j].ProjectID ||
			s.Merges[i].ProjectID == s.Merges[j].ProjectID && s.Merges[i].FromID < s.Merges[j].FromID
	})
	sort.Slice(s.Groups, func(i, j int) bool {
		gi, gj := s.Groups[i], s.Groups[j]
		if gi.ProjectID != gj.ProjectID {
			return gi.ProjectID < gj.ProjectID
		}
		if gi.GroupType != gj.GroupType {
			return gi.GroupType < gj.GroupType
		}
		return gi.GroupValue < gj.GroupValue
	})
	return s
}

func sessions(t *testing.T, b Backend, project int64) []storage.Session {
	t.Helper()
	var out []storage.Session
	if err := b.Sessions(t.Context(), project, func(s *storage.Session) error { out = append(out, *s); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].AmplitudeID < out[j].AmplitudeID ||
			out[i].AmplitudeID == out[j].AmplitudeID && out[i].SessionID < out[j].SessionID
	})
	return out
}

func fullUnit() *storage.Unit {
	return &storage.Unit{
		Position: 1234,
		Events:   []event.Event{fullEvent(1, "ins-full", 1), sparseEvent(1, "ins-sparse", 2)},
		Dedup: []storage.DedupKey{
			{Hash: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, Time: 1700000000003},
			{Hash: [16]byte{0xff, 0xfe, 0x80, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 1}, Time: 1700000000000},
		},
		Users: []storage.User{
			{ProjectID: 1, AmplitudeID: 42, UserID: "user-1", Properties: []byte(`{"plan":"premium"}`),
				FirstSeen: 1700000000001, LastSeen: 1700000000009, DeviceIDs: []string{"device-1", "device-3"},
				FirstPlatform: "iOS", FirstCountry: "Germany"},
			{ProjectID: 1, AmplitudeID: 43, FirstSeen: 1700000000002, LastSeen: 1700000000002, MergedInto: 42},
		},
		Devices: []storage.Device{
			{ProjectID: 1, DeviceID: "device-1", AmplitudeID: 42, AnonymousID: 43},
			{ProjectID: 1, DeviceID: "device-2", AmplitudeID: 43},
		},
		UserIDs:  []storage.UserID{{ProjectID: 1, UserID: "user-1", AmplitudeID: 42}},
		Merges:   []storage.Merge{{ProjectID: 1, FromID: 43, IntoID: 42, Time: 1700000000005, EventSeq: 1, DeviceID: "device-1"}},
		Sessions: []storage.Session{{ProjectID: 1, AmplitudeID: 42, SessionID: 1699999990000, Start: 1700000000001, LastEvent: 1700000000001, EventCount: 1}},
		Groups: []storage.Group{
			{ProjectID: 1, GroupType: "org", GroupValue: "acme", Properties: []byte(`{"tier":"gold"}`)},
			{ProjectID: 1, GroupType: "org", GroupValue: "empty"},
		},
		Counters: map[string]int64{"amplitude_id": 44, "seq": 3},
	}
}

func wantState(u *storage.Unit) state {
	return state{Position: u.Position, Counters: u.Counters,
		Dedup: []storage.DedupKey{u.Dedup[0], u.Dedup[1]},
		Users: u.Users, Devices: u.Devices, UserIDs: u.UserIDs, Merges: u.Merges, Groups: u.Groups}
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testRoundTrip(t *testing.T, open func(t *testing.T) Backend) {
	b := open(t)
	defer b.Close()
	u := fullUnit()
	apply(t, b, u)
	diff(t, "state", load(t, b), wantState(u))
	diff(t, "sessions", sessions(t, b, 1), u.Sessions)
	for _, e := range u.Events {
		got, err := b.EventsByInsertID(t.Context(), 1, e.InsertID)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "event "+e.InsertID, got, []event.Event{e})
	}
}

func testUpsertsReplace(t *testing.T, open func(t *testing.T) Backend) {
	b := open(t)
	defer b.Close()
	u := fullUnit()
	apply(t, b, u)
	u2 := &storage.Unit{
		Position: 2000,
		Users: []storage.User{
			{ProjectID: 1, AmplitudeID: 42, UserID: "user-1", Properties: []byte(`{"plan":"free"}`),
				FirstSeen: 1700000000001, LastSeen: 1700000009999, DeviceIDs: []string{"device-1"}},
			// Two rows for one key in one unit: the last wins.
			{ProjectID: 1, AmplitudeID: 43, LastSeen: 1},
			{ProjectID: 1, AmplitudeID: 43, FirstSeen: 1700000000002, LastSeen: 1700000000003, MergedInto: 42},
		},
		Devices:  []storage.Device{{ProjectID: 1, DeviceID: "device-2", AmplitudeID: 42, AnonymousID: 43}},
		UserIDs:  []storage.UserID{{ProjectID: 1, UserID: "user-1", AmplitudeID: 99}},
		Merges:   []storage.Merge{{ProjectID: 1, FromID: 43, IntoID: 42, Time: 1700000000005, EventSeq: 1, DeviceID: "device-1", Undone: true}},
		Groups:   []storage.Group{{ProjectID: 1, GroupType: "org", GroupValue: "acme", Properties: []byte(`{"tier":"silver"}`)}},
		Counters: map[string]int64{"seq": 10},
	}
	apply(t, b, u2)
	want := wantState(u)
	want.Position = 2000
	want.Users = []storage.User{u2.Users[0], u2.Users[2]}
	want.Devices = []storage.Device{u.Devices[0], u2.Devices[0]}
	want.UserIDs = u2.UserIDs
	want.Merges = u2.Merges
	want.Groups = []storage.Group{u2.Groups[0], u.Groups[1]}
	want.Counters = map[string]int64{"amplitude_id": 44, "seq": 10}
	diff(t, "state", load(t, b), want)
}

func testSessionPartials(t *testing.T, open func(t *testing.T) Backend) {
	b := open(t)
	defer b.Close()
	apply(t, b, &storage.Unit{Position: 1, Sessions: []storage.Session{
		{ProjectID: 1, AmplitudeID: 5, SessionID: 100, Start: 110, LastEvent: 150, EventCount: 3},
		{ProjectID: 1, AmplitudeID: 5, SessionID: 100, Start: 105, LastEvent: 140, EventCount: 1}, // same unit
		{ProjectID: 1, AmplitudeID: 6, SessionID: 100, Start: 100, LastEvent: 100, EventCount: 1},
	}})
	apply(t, b, &storage.Unit{Position: 2, Sessions: []storage.Session{
		{ProjectID: 1, AmplitudeID: 5, SessionID: 100, Start: 120, LastEvent: 300, EventCount: 2},
		{ProjectID: 1, AmplitudeID: 5, SessionID: 200, Start: 200, LastEvent: 210, EventCount: 2},
	}})
	diff(t, "sessions", sessions(t, b, 1), []storage.Session{
		{ProjectID: 1, AmplitudeID: 5, SessionID: 100, Start: 105, LastEvent: 300, EventCount: 6},
		{ProjectID: 1, AmplitudeID: 5, SessionID: 200, Start: 200, LastEvent: 210, EventCount: 2},
		{ProjectID: 1, AmplitudeID: 6, SessionID: 100, Start: 100, LastEvent: 100, EventCount: 1},
	})
}

func testPersist(t *testing.T, open func(t *testing.T) Backend) {
	b := open(t)
	u := fullUnit()
	apply(t, b, u)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(t.Context(), u); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Apply after Close = %v, want ErrClosed", err)
	}
	b = b.Reopen(t)
	defer b.Close()
	diff(t, "state after reopen", load(t, b), wantState(u))
	if n, err := b.CountEvents(t.Context(), 1); err != nil || n != 2 {
		t.Fatalf("CountEvents = %d, %v; want 2", n, err)
	}
}

func testFailedApply(t *testing.T, open func(t *testing.T) Backend) {
	steps := []string{"events", "dedup", "users", "devices", "user_ids", "merges", "sessions", "groups", "counters", "position"}
	for _, failAt := range steps {
		t.Run(failAt, func(t *testing.T) {
			b := open(t)
			defer b.Close()
			base := &storage.Unit{Position: 10, Events: []event.Event{sparseEvent(1, "base", 1)}, Counters: map[string]int64{"seq": 2}}
			apply(t, b, base)
			before := load(t, b)
			errInjected := errors.New("injected")
			var seen []string
			b.SetApplyHook(func(step string) error {
				seen = append(seen, step)
				if step == failAt {
					return errInjected
				}
				return nil
			})
			u := fullUnit()
			if err := b.Apply(t.Context(), u); !errors.Is(err, errInjected) {
				t.Fatalf("Apply = %v, want the injected error", err)
			}
			if seen[len(seen)-1] != failAt {
				t.Fatalf("hook saw %v, never %q", seen, failAt)
			}
			b.SetApplyHook(nil)
			diff(t, "state after failed apply", load(t, b), before)
			diff(t, "sessions after failed apply", sessions(t, b, 1), []storage.Session(nil))
			if n, err := b.CountEvents(t.Context(), 1); err != nil || n != 1 {
				t.Fatalf("CountEvents = %d, %v; want 1", n, err)
			}
			// The store still works: the same unit applies cleanly.
			apply(t, b, u)
			if pos, err := b.AppliedPosition(t.Context()); err != nil || pos != u.Position {
				t.Fatalf("AppliedPosition = %d, %v; want %d", pos, err, u.Position)
			}
		})
	}
}

func testProjectsApart(t *testing.T, open func(t *testing.T) Backend) {
	b := open(t)
	defer b.Close()
	e1, e2 := fullEvent(1, "same", 1), fullEvent(2, "same", 1)
	e2.EventType = "Other"
	apply(t, b, &storage.Unit{Position: 1,
		Events:   []event.Event{e1, e2, sparseEvent(2, "p2", 2)},
		Users:    []storage.User{{ProjectID: 1, AmplitudeID: 1, UserID: "a"}, {ProjectID: 2, AmplitudeID: 1, UserID: "b"}},
		Devices:  []storage.Device{{ProjectID: 1, DeviceID: "d", AmplitudeID: 1}, {ProjectID: 2, DeviceID: "d", AmplitudeID: 2}},
		UserIDs:  []storage.UserID{{ProjectID: 1, UserID: "u", AmplitudeID: 1}, {ProjectID: 2, UserID: "u", AmplitudeID: 2}},
		Merges:   []storage.Merge{{ProjectID: 1, FromID: 3, IntoID: 1}, {ProjectID: 2, FromID: 3, IntoID: 2}},
		Sessions: []storage.Session{{ProjectID: 1, AmplitudeID: 1, SessionID: 9, EventCount: 1}, {ProjectID: 2, AmplitudeID: 1, SessionID: 9, EventCount: 5}},
		Groups:   []storage.Group{{ProjectID: 1, GroupType: "t", GroupValue: "v"}, {ProjectID: 2, GroupType: "t", GroupValue: "v"}},
	})
	s := load(t, b)
	if len(s.Users) != 2 || len(s.Devices) != 2 || len(s.UserIDs) != 2 || len(s.Merges) != 2 || len(s.Groups) != 2 {
		t.Fatalf("rows of different projects collapsed: %+v", s)
	}
	for p, want := range map[int64]int64{1: 1, 2: 2, 3: 0} {
		if n, err := b.CountEvents(t.Context(), p); err != nil || n != want {
			t.Errorf("CountEvents(%d) = %d, %v; want %d", p, n, err, want)
		}
	}
	got, err := b.EventsByInsertID(t.Context(), 2, "same")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "project 2 event", got, []event.Event{e2})
	diff(t, "project 2 sessions", sessions(t, b, 2), []storage.Session{{ProjectID: 2, AmplitudeID: 1, SessionID: 9, EventCount: 5}})
}

func testDedupSince(t *testing.T, open func(t *testing.T) Backend) {
	b := open(t)
	defer b.Close()
	keys := []storage.DedupKey{{Hash: [16]byte{1}, Time: 100}, {Hash: [16]byte{2}, Time: 200}, {Hash: [16]byte{3}, Time: 300}}
	apply(t, b, &storage.Unit{Position: 1, Dedup: keys})
	var got []storage.DedupKey
	if err := b.LoadDedup(t.Context(), 200, func(k storage.DedupKey) error { got = append(got, k); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Time < got[j].Time })
	diff(t, "dedup since 200", got, keys[1:])
	stop := errors.New("stop")
	if err := b.LoadDedup(t.Context(), 0, func(storage.DedupKey) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("LoadDedup with failing callback = %v, want its error", err)
	}
}
