package pipeline

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/identity"
	"github.com/crest-analytics/crest/internal/wal"
)

// runWith is run with options.
func runWith(t *testing.T, dir string, store *memStore, opts Options) (p *Pipeline, sink *Sink, log *wal.Log, stop func() error) {
	t.Helper()
	log, err := wal.Open(wal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p, err = New(t.Context(), log, store, discard, opts)
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

func idEvent(user, device, insertID, props string) event.Event {
	e := event.Event{EventType: "Play Song", UserID: user, DeviceID: device, InsertID: insertID,
		Time: 1000, ClientEventTime: 1000, SessionID: event.NoSession, EventID: event.NoEventID}
	if props != "" {
		e.UserProperties = []byte(props)
	}
	return e
}

func send(t *testing.T, p *Pipeline, sink *Sink, log *wal.Log, evs ...event.Event) {
	t.Helper()
	if err := sink.Write(t.Context(), &event.Batch{ProjectID: 1, ServerReceivedTime: time.Now().UnixMilli(), Events: evs}); err != nil {
		t.Fatal(err)
	}
	waitStored(t, p, log)
}

// Two pipelines sharing a map: a user who logs in on a device of node a
// and then on one of node b has a's id on both, b's anonymous id is merged
// into it, and b continues from the user properties a published.
func TestPipelineSharedMapTwoNodes(t *testing.T) {
	m := identity.NewMemMap()
	storeA, storeB := newMemStore(), newMemStore()
	pa, sa, la, stopA := runWith(t, t.TempDir(), storeA, Options{Shared: m.Node("a"), IDHigh: 1 << 40})
	pb, sb, lb, stopB := runWith(t, t.TempDir(), storeB, Options{Shared: m.Node("b"), IDLow: 1 << 40, IDHigh: 2 << 40})
	send(t, pa, sa, la, idEvent("", "da", "1", `{"$set":{"src":"ad"}}`))
	send(t, pa, sa, la, idEvent("u", "da", "2", `{"$add":{"n":1}}`))
	send(t, pb, sb, lb, idEvent("", "db", "3", ""), idEvent("u", "db", "4", `{"$add":{"n":2}}`))
	if err := errors.Join(stopA(), stopB()); err != nil {
		t.Fatal(err)
	}
	a, b := storeA.stored(), storeB.stored()
	uid, node := m.Claimed(1, "u")
	if node != "a" || uid != a[0].AmplitudeID || a[1].AmplitudeID != uid {
		t.Fatalf("u claimed as %d by %q; node a stored %d, %d", uid, node, a[0].AmplitudeID, a[1].AmplitudeID)
	}
	anonB := b[0].AmplitudeID
	if anonB < 1<<40 || b[1].AmplitudeID != uid {
		t.Fatalf("node b stored %d (want one of its own ids) and %d (want %d)", anonB, b[1].AmplitudeID, uid)
	}
	if mg := storeB.merges[anonB]; mg.IntoID != uid {
		t.Errorf("node b's merge of %d: %+v, want into %d", anonB, mg, uid)
	}
	if got := string(b[1].UserProperties); got != `{"n":3,"src":"ad"}` {
		t.Errorf("node b's snapshot %s, want a's table with b's $add", got)
	}
	if u := storeB.users[uid]; u.UserID != "u" || fmt.Sprint(u.DeviceIDs) != "[da db]" || string(u.Properties) != `{"n":3,"src":"ad"}` {
		t.Errorf("node b's row of u: %+v", u)
	}
	if x := storeB.userIDs[fmt.Sprint(1, "u")]; x.AmplitudeID != uid {
		t.Errorf("node b's user_ids row of u: %+v", x)
	}
}

// A unit whose Apply fails after its user_ids were claimed resolves, when
// replayed on restart, to the claimed ids: the adopted anonymous id and
// the fresh one, with no merge.
func TestPipelineSharedMapReplay(t *testing.T) {
	m := identity.NewMemMap()
	dir, store := t.TempDir(), newMemStore()
	p, sink, log, stop := runWith(t, dir, store, Options{Shared: m.Node("c")})
	send(t, p, sink, log, idEvent("", "dk", "1", ""))
	anon := store.stored()[0].AmplitudeID
	store.mu.Lock()
	store.failNext = errors.New("disk full")
	store.mu.Unlock()
	if err := sink.Write(t.Context(), &event.Batch{ProjectID: 1, ServerReceivedTime: time.Now().UnixMilli(), Events: []event.Event{
		idEvent("u2", "dk", "2", ""), idEvent("u3", "dnew", "3", ""), idEvent("", "dnew", "4", ""),
	}}); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err == nil {
		t.Fatal("Run returned nil after a failed Apply")
	}
	u2, _ := m.Claimed(1, "u2")
	u3, _ := m.Claimed(1, "u3")
	if u2 != anon || u3 == 0 || u3 == anon {
		t.Fatalf("before the restart: u2 claimed as %d (want %d, adopted), u3 as %d", u2, anon, u3)
	}

	p, _, log, stop = runWith(t, dir, store, Options{Shared: m.Node("c")})
	waitStored(t, p, log)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := store.stored()
	if len(got) != 4 || got[1].AmplitudeID != u2 || got[2].AmplitudeID != u3 || got[3].AmplitudeID != u3 {
		t.Fatalf("replayed events: %+v; want u2 %d, u3 %d", got, u2, u3)
	}
	if len(store.merges) != 0 {
		t.Errorf("replay merged: %+v", store.merges)
	}
	if store.users[anon].UserID != "u2" || store.users[u3].UserID != "u3" {
		t.Errorf("users rows: %+v", store.users)
	}
}
