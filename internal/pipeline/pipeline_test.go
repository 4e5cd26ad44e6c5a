package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
	"github.com/crest-analytics/crest/internal/wal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memStore is an in-memory storage backend that keeps what Apply wrote,
// enough for the pipeline to restart from it.
type memStore struct {
	mu       sync.Mutex
	pos      uint64
	events   []event.Event
	dedup    []storage.DedupKey
	counters map[string]int64
	users    map[int64]storage.User
	devices  map[string]storage.Device
	userIDs  map[string]storage.UserID
	merges   map[int64]storage.Merge
	groups   map[string]storage.Group
	failNext error // returned by the next Apply, which then stores nothing
}

func newMemStore() *memStore {
	return &memStore{counters: map[string]int64{}, users: map[int64]storage.User{},
		devices: map[string]storage.Device{}, userIDs: map[string]storage.UserID{},
		merges: map[int64]storage.Merge{}, groups: map[string]storage.Group{}}
}

func (s *memStore) Apply(ctx context.Context, u *storage.Unit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failNext; err != nil {
		s.failNext = nil
		return err
	}
	s.pos = u.Position
	s.events = append(s.events, u.Events...)
	s.dedup = append(s.dedup, u.Dedup...)
	for k, v := range u.Counters {
		s.counters[k] = v
	}
	for _, x := range u.Users {
		s.users[x.AmplitudeID] = x
	}
	for _, x := range u.Devices {
		s.devices[fmt.Sprint(x.ProjectID, x.DeviceID)] = x
	}
	for _, x := range u.UserIDs {
		s.userIDs[fmt.Sprint(x.ProjectID, x.UserID)] = x
	}
	for _, x := range u.Merges {
		s.merges[x.FromID] = x
	}
	for _, x := range u.Groups {
		s.groups[fmt.Sprint(x.ProjectID, x.GroupType, x.GroupValue)] = x
	}
	return nil
}

func (s *memStore) AppliedPosition(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos, nil
}

func (s *memStore) Counters(context.Context) (map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := map[string]int64{}
	for k, v := range s.counters {
		c[k] = v
	}
	return c, nil
}

func (s *memStore) LoadDedup(_ context.Context, since int64, fn func(storage.DedupKey) error) error {
	for _, k := range s.dedup {
		if k.Time >= since {
			if err := fn(k); err != nil {
				return err
			}
		}
	}
	return nil
}

func each[T any](m map[string]T, fn func(*T) error) error {
	for _, v := range m {
		if err := fn(&v); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) LoadUsers(_ context.Context, fn func(*storage.User) error) error {
	for _, v := range s.users {
		if err := fn(&v); err != nil {
			return err
		}
	}
	return nil
}
func (s *memStore) LoadDevices(_ context.Context, fn func(*storage.Device) error) error {
	return each(s.devices, fn)
}
func (s *memStore) LoadUserIDs(_ context.Context, fn func(*storage.UserID) error) error {
	return each(s.userIDs, fn)
}
func (s *memStore) LoadMerges(_ context.Context, fn func(*storage.Merge) error) error {
	for _, v := range s.merges {
		if err := fn(&v); err != nil {
			return err
		}
	}
	return nil
}
func (s *memStore) LoadGroups(_ context.Context, fn func(*storage.Group) error) error {
	return each(s.groups, fn)
}

func (s *memStore) stored() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.events...)
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// run starts a pipeline over dir and store; stop cancels it and returns Run's error.
func run(t *testing.T, dir string, store *memStore) (p *Pipeline, sink *Sink, log *wal.Log, stop func() error) {
	t.Helper()
	log, err := wal.Open(wal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p, err = New(t.Context(), log, store, discard, Options{MaxUnitEvents: 7})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return p, NewSink(log), log, func() error {
		cancel()
		err := <-done
		if cerr := log.Close(); cerr != nil && err == nil {
			err = cerr
		}
		return err
	}
}

func batch(project int64, insertIDs ...string) *event.Batch {
	b := &event.Batch{ProjectID: project, ServerReceivedTime: time.Now().UnixMilli()}
	for i, id := range insertIDs {
		b.Events = append(b.Events, event.Event{
			EventType: "Play Song", DeviceID: "device-1", InsertID: id,
			Time: int64(1000 + i), ClientEventTime: int64(1000 + i), ServerReceivedTime: b.ServerReceivedTime,
			SessionID: event.NoSession, EventID: event.NoEventID,
		})
	}
	return b
}

func insertIDs(evs []event.Event) []string {
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.InsertID)
	}
	return ids
}

func waitStored(t *testing.T, p *Pipeline, log *wal.Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := p.WaitApplied(ctx, log.Durable()); err != nil {
		t.Fatal(err)
	}
}

func TestPipelineAppliesInOrderAndDedups(t *testing.T) {
	dir, store := t.TempDir(), newMemStore()
	p, sink, log, stop := run(t, dir, store)
	ctx := t.Context()
	for _, b := range []*event.Batch{
		batch(1, "a", "b", "c"),
		batch(1, "b", "d"),                // b is a retry: dropped
		batch(2, "a"),                     // same insert_id in another project: kept
		batch(1, "e", "f", "g", "h", "i"), // spans units (MaxUnitEvents 7)
	} {
		if err := sink.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	waitStored(t, p, log)
	got := store.stored()
	want := []string{"a", "b", "c", "d", "a", "e", "f", "g", "h", "i"}
	if fmt.Sprint(insertIDs(got)) != fmt.Sprint(want) {
		t.Fatalf("stored %v, want %v", insertIDs(got), want)
	}
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d has seq %d, want %d", i, e.Seq, i+1)
		}
		if e.AmplitudeID == 0 {
			t.Errorf("event %d has no amplitude_id", i)
		}
	}
	if got[0].AmplitudeID != got[1].AmplitudeID || got[4].AmplitudeID == got[0].AmplitudeID {
		t.Errorf("amplitude ids: same device in one project must share one id, other project another: %d %d %d",
			got[0].AmplitudeID, got[1].AmplitudeID, got[4].AmplitudeID)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestPipelineRestartKeepsDedupAndSeq(t *testing.T) {
	dir, store := t.TempDir(), newMemStore()
	p, sink, log, stop := run(t, dir, store)
	if err := sink.Write(t.Context(), batch(1, "a", "b")); err != nil {
		t.Fatal(err)
	}
	waitStored(t, p, log)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	p, sink, log, stop = run(t, dir, store)
	if err := sink.Write(t.Context(), batch(1, "a", "c")); err != nil { // a is a retry after the restart
		t.Fatal(err)
	}
	waitStored(t, p, log)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := store.stored()
	if fmt.Sprint(insertIDs(got)) != "[a b c]" {
		t.Fatalf("stored %v, want [a b c]", insertIDs(got))
	}
	if got[2].Seq != 3 || got[2].AmplitudeID != got[0].AmplitudeID {
		t.Fatalf("after restart: seq %d (want 3), amplitude_id %d (want %d)", got[2].Seq, got[2].AmplitudeID, got[0].AmplitudeID)
	}
}

// A failed Apply stops the pipeline with the records still in the WAL; the
// next start applies them exactly once.
func TestPipelineReplaysAfterFailedApply(t *testing.T) {
	dir, store := t.TempDir(), newMemStore()
	p, sink, log, stop := run(t, dir, store)
	if err := sink.Write(t.Context(), batch(1, "a")); err != nil {
		t.Fatal(err)
	}
	waitStored(t, p, log)
	store.mu.Lock()
	store.failNext = errors.New("disk full")
	store.mu.Unlock()
	if err := sink.Write(t.Context(), batch(1, "b", "c")); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err == nil {
		t.Fatal("Run returned nil after a failed Apply")
	}
	if got := insertIDs(store.stored()); fmt.Sprint(got) != "[a]" {
		t.Fatalf("after the failure stored %v, want [a]", got)
	}

	p, _, log, stop = run(t, dir, store)
	waitStored(t, p, log)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := insertIDs(store.stored()); fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("after the restart stored %v, want [a b c]", got)
	}
}

// Shutdown applies everything that was durable when it began.
func TestPipelineDrainsOnShutdown(t *testing.T) {
	dir, store := t.TempDir(), newMemStore()
	_, sink, _, stop := run(t, dir, store)
	for i := 0; i < 20; i++ {
		if err := sink.Write(t.Context(), batch(1, fmt.Sprint("x", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(store.stored()); n != 20 {
		t.Fatalf("stored %d events after shutdown, want 20", n)
	}
}

func TestDedupKeyWithoutInsertID(t *testing.T) {
	e := event.Event{ProjectID: 1, DeviceID: "device-1", EventID: 4, ClientEventTime: 99}
	k1, ok1 := dedupKey(&e)
	e2 := e
	k2, _ := dedupKey(&e2)
	e2.EventID = 5
	k3, _ := dedupKey(&e2)
	none := event.Event{ProjectID: 1, DeviceID: "device-1", EventID: event.NoEventID}
	_, ok4 := dedupKey(&none)
	if !ok1 || k1 != k2 || k1 == k3 || ok4 {
		t.Fatalf("event_id keys: ok %v, equal %v, differ %v, none %v", ok1, k1 == k2, k1 != k3, ok4)
	}
}

func TestPipelineUndoMerge(t *testing.T) {
	dir, store := t.TempDir(), newMemStore()
	p, sink, log, stop := run(t, dir, store)
	ev := func(user, device, insertID string) event.Event {
		return event.Event{EventType: "Play Song", UserID: user, DeviceID: device, InsertID: insertID,
			Time: 1000, ClientEventTime: 1000, SessionID: event.NoSession, EventID: event.NoEventID}
	}
	b := &event.Batch{ProjectID: 1, ServerReceivedTime: time.Now().UnixMilli(), Events: []event.Event{
		ev("", "device-anon", "1"),       // anonymous id A
		ev("user-1", "device-home", "2"), // user U
		ev("user-1", "device-anon", "3"), // U logs in on A's device: A merges into U
	}}
	if err := sink.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	waitStored(t, p, log)
	got := store.stored()
	anon, user := got[0].AmplitudeID, got[1].AmplitudeID
	if ms := p.Merges(1, user); len(ms) != 1 || ms[0].FromID != anon || ms[0].Undone {
		t.Fatalf("merges of %d = %+v, want one from %d", user, ms, anon)
	}
	m, err := p.UndoMerge(t.Context(), sink, 1, anon)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Undone || m.FromID != anon || m.IntoID != user {
		t.Fatalf("UndoMerge returned %+v", m)
	}
	if _, err := p.UndoMerge(t.Context(), sink, 1, user); !errors.Is(err, ErrNoMerge) {
		t.Fatalf("undo of an id never merged: %v, want ErrNoMerge", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if sm := store.merges[anon]; !sm.Undone {
		t.Fatalf("stored merge %+v is not undone", sm)
	}
	if n := len(store.stored()); n != 3 {
		t.Fatalf("stored %d events, want 3: an undo is not an event", n)
	}
}

func TestDedupSetPrune(t *testing.T) {
	d := newDedupSet()
	d.add([16]byte{1}, 100)
	d.add([16]byte{2}, 200)
	d.prune(150)
	if d.seen([16]byte{1}) || !d.seen([16]byte{2}) || d.len() != 1 {
		t.Fatalf("after prune(150): seen 1 %v, seen 2 %v, len %d", d.seen([16]byte{1}), d.seen([16]byte{2}), d.len())
	}
}
