package identity

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// sharedNode is one Crest node's identity state in a test: a Resolver, its
// view of a shared map (nil for a single node) and its store.
type sharedNode struct {
	r      *Resolver
	m      SharedMap
	merges map[int64]int64 // every merge seen by any node: from → into
}

// unit processes evs as one pipeline unit: plan, claim, pin and refresh
// (with a map), process, drain and publish.
func (n *sharedNode) unit(t *testing.T, evs []event.Event) {
	t.Helper()
	if n.m != nil {
		var plan Plan
		n.r.Plan(&plan, evs)
		if err := n.m.Claim(t.Context(), plan.Claims); err != nil {
			t.Fatal(err)
		}
		n.r.Pin(plan.Claims)
		refs := plan.Touched
		for _, c := range plan.Claims {
			if c.AmplitudeID != c.Proposed {
				refs = append(refs, UserRef{c.ProjectID, c.AmplitudeID})
			}
		}
		rows, err := n.m.Refresh(t.Context(), refs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			n.r.Refresh(&rows[i])
		}
	}
	for i := range evs {
		n.r.Process(&evs[i], event.KindEvents)
	}
	var u storage.Unit
	n.r.Drain(&u)
	for _, m := range u.Merges {
		n.merges[m.FromID] = m.IntoID
	}
	if n.m != nil {
		if err := n.m.Publish(t.Context(), u.Users); err != nil {
			t.Fatal(err)
		}
	}
}

func canon(merges map[int64]int64, id int64) int64 {
	for i := 0; i < 16; i++ {
		into, ok := merges[id]
		if !ok {
			break
		}
		id = into
	}
	return id
}

// TestSharedMapTwoNodes sends one stream of units, each to node a or b,
// through two Resolvers sharing a MemMap, and the same stream through one
// Resolver alone: every event must belong to the same user (the same
// partition of events into canonical ids) and carry the same user
// property snapshot, and a user_id has one id across the nodes.
func TestSharedMapTwoNodes(t *testing.T) {
	type step struct {
		node string
		evs  string // uid/dev/up;... (uid or dev may be empty)
	}
	steps := []step{
		{"a", `/da/{"$set":{"src":"ad"}}`},
		{"b", `/db/`},
		{"a", `u/da/{"$set":{"plan":"free"},"$add":{"n":1}}`},
		// u logs in on b's device: b adopts a's id and merges db's anonymous id into it.
		{"b", `u/db/{"$add":{"n":2}}`},
		{"b", `/db/{"$append":{"tags":"x"}}`},
		// a continues from b's published row: n=3 and tags.
		{"a", `u/da/{"$set":{"plan":"paid"}}`},
		{"a", `/da/`},
		// A device first seen in the unit of its login (a merge on a node
		// with a shared map, an adoption alone: the same user either way).
		{"b", `/dc/{"$set":{"c":1}};v/dc/;v//{"$add":{"n":5}}`},
		{"a", `v/dd/;/dd/{"$add":{"n":1}}`},
		// Another user id on u's device on b: a second person.
		{"b", `w/db/;/db/{"$set":{"who":"w"}}`},
		{"a", `w/da/`},
		{"b", `u/db/`},
		{"a", `/da/{"$unset":{"src":"-"}}`},
		{"b", `/db/`},
	}
	parse := func(s string, n *int64) []event.Event {
		var evs []event.Event
		for _, x := range strings.Split(s, ";") {
			f := strings.SplitN(x, "/", 3)
			*n++
			e := event.Event{ProjectID: 1, UserID: f[0], DeviceID: f[1], EventType: "e", Time: 1000 * *n, Seq: *n, SessionID: event.NoSession}
			if f[2] != "" {
				e.UserProperties = []byte(f[2])
			}
			evs = append(evs, e)
		}
		return evs
	}

	single := &sharedNode{r: New(), merges: map[int64]int64{}}
	m := NewMemMap()
	merges := map[int64]int64{}
	nodes := map[string]*sharedNode{
		"a": {r: New(), m: m.Node("a"), merges: merges},
		"b": {r: New(), m: m.Node("b"), merges: merges},
	}
	nodes["b"].r.SetIDRange(1<<40, 2<<40)
	nodes["a"].r.SetIDRange(0, 1<<40)

	var ns, np int64
	var want, got []event.Event
	for _, s := range steps {
		a, b := parse(s.evs, &ns), parse(s.evs, &np)
		single.unit(t, a)
		nodes[s.node].unit(t, b)
		want, got = append(want, a...), append(got, b...)
	}
	// Same partition: canonical ids correspond one to one.
	fwd, back := map[int64]int64{}, map[int64]int64{}
	for i := range want {
		w, g := canon(single.merges, want[i].AmplitudeID), canon(merges, got[i].AmplitudeID)
		if x, ok := fwd[w]; ok && x != g {
			t.Errorf("event %d (%s/%s): single node's user %d is %d here, but earlier %d", i, want[i].UserID, want[i].DeviceID, w, g, x)
		}
		if x, ok := back[g]; ok && x != w {
			t.Errorf("event %d (%s/%s): user %d holds the single node's users %d and %d", i, got[i].UserID, got[i].DeviceID, g, x, w)
		}
		fwd[w], back[g] = g, w
		if string(want[i].UserProperties) != string(got[i].UserProperties) {
			t.Errorf("event %d (%s/%s): snapshot %s, single node %s", i, got[i].UserID, got[i].DeviceID, got[i].UserProperties, want[i].UserProperties)
		}
	}
	if len(fwd) != 3 { // u (da, db), v (dc, dd) and w
		t.Errorf("the stream has %d users, want 3: %v", len(fwd), fwd)
	}
	for _, uid := range []string{"u", "v", "w"} {
		id, node := m.Claimed(1, uid)
		if id == 0 {
			t.Errorf("user id %s is not claimed", uid)
		}
		for name, n := range nodes {
			if got := n.r.userIDs[strKey{1, uid}]; got != 0 && got != id {
				t.Errorf("node %s maps %s to %d, the claim (by %s) says %d", name, uid, got, node, id)
			}
		}
	}
	if id, node := m.Claimed(1, "u"); node != "a" || id != 1 {
		t.Errorf("u is claimed as %d by %q, want 1 (da's anonymous id, adopted) by a", id, node)
	}
}

// TestPlanProposals checks the id Plan proposes for each kind of new
// user_id, and that known or repeated user_ids are not claimed.
func TestPlanProposals(t *testing.T) {
	r := New()
	for _, e := range []event.Event{
		{ProjectID: 1, DeviceID: "anon"},                // id 1, anonymous
		{ProjectID: 1, DeviceID: "anon2"},               // id 2, anonymous
		{ProjectID: 1, UserID: "known", DeviceID: "kd"}, // id 3
		{ProjectID: 1, DeviceID: "merged"},              // id 4, then merged into 3
		{ProjectID: 1, UserID: "known", DeviceID: "merged"},
	} {
		r.Process(&e, event.KindEvents)
	}
	evs := []event.Event{
		{ProjectID: 1, UserID: "known", DeviceID: "anon2"}, // known: no claim; anon2 is no longer adoptable in this unit
		{ProjectID: 1, UserID: "n1", DeviceID: "anon"},     // adopts 1
		{ProjectID: 1, UserID: "n1", DeviceID: "x"},        // claimed already
		{ProjectID: 1, UserID: "n2", DeviceID: "anon"},     // anon taken by n1: fresh 5
		{ProjectID: 1, UserID: "n3", DeviceID: "anon2"},    // anon2 taken by known: fresh 6
		{ProjectID: 1, UserID: "n4", DeviceID: "merged"},   // merged device's id is a user's: fresh 7
		{ProjectID: 1, UserID: "n5"},                       // no device: fresh 8
		{ProjectID: 2, UserID: "n1", DeviceID: "anon"},     // another project: unknown device, fresh 9
	}
	var p Plan
	r.Plan(&p, evs)
	var b strings.Builder
	for _, c := range p.Claims {
		fmt.Fprintf(&b, "%d/%s=%d ", c.ProjectID, c.UserID, c.Proposed)
	}
	if want := "1/n1=1 1/n2=5 1/n3=6 1/n4=7 1/n5=8 2/n1=9 "; b.String() != want {
		t.Errorf("claims %s, want %s", b.String(), want)
	}
	if fmt.Sprint(p.Touched) != "[{1 3}]" {
		t.Errorf("touched %v, want [{1 3}]", p.Touched)
	}
}

// TestSetIDRange: ids of other nodes, loaded or pinned, do not move the
// counter.
func TestSetIDRange(t *testing.T) {
	r := New()
	r.SetIDRange(1<<40, 2<<40)
	r.LoadUser(&storage.User{ProjectID: 1, AmplitudeID: 7, UserID: "a"})
	r.LoadUserID(&storage.UserID{ProjectID: 1, UserID: "a", AmplitudeID: 7})
	r.LoadUser(&storage.User{ProjectID: 1, AmplitudeID: 3 << 40, UserID: "c"})
	r.Pin([]Claim{{ProjectID: 1, UserID: "z", AmplitudeID: 5, Proposed: 1 << 40}})
	r.LoadUser(&storage.User{ProjectID: 1, AmplitudeID: 1<<40 + 9, UserID: "b"})
	e := event.Event{ProjectID: 1, DeviceID: "d"}
	r.Process(&e, event.KindEvents)
	if e.AmplitudeID != 1<<40+10 {
		t.Errorf("new id %d, want %d", e.AmplitudeID, 1<<40+10)
	}
	e = event.Event{ProjectID: 1, UserID: "z", DeviceID: "d2"}
	r.Process(&e, event.KindEvents)
	if e.AmplitudeID != 5 {
		t.Errorf("pinned user id resolved to %d, want 5", e.AmplitudeID)
	}
}
