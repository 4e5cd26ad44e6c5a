package postgres

import (
	"fmt"
	"sync"
	"testing"

	"github.com/crest-analytics/crest/internal/identity"
	"github.com/crest-analytics/crest/internal/storage"
)

// openIdentityMaps migrates a fresh schema and opens one IdentityMap per
// node name, each with its own connections.
func openIdentityMaps(t *testing.T, nodes ...string) []*IdentityMap {
	t.Helper()
	dsn := testDSN(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var out []*IdentityMap
	for _, n := range nodes {
		m, err := OpenIdentityMap(t.Context(), dsn, n)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		out = append(out, m)
	}
	return out
}

// Two nodes claim the same 200 user_ids at once, from two goroutines on
// two connection pools, each proposing its own ids: every user_id has one
// winner, both nodes read the same one, and a claim made again (a replay)
// returns it unchanged.
func TestIdentityMapConcurrentClaims(t *testing.T) {
	ms := openIdentityMaps(t, "a", "b")
	const n = 200
	claims := make([][]identity.Claim, 2)
	for i := range 2 {
		for j := range n {
			// Node b lists them backwards, so the two meet in the middle.
			k := j
			if i == 1 {
				k = n - 1 - j
			}
			claims[i] = append(claims[i], identity.Claim{ProjectID: 1, UserID: fmt.Sprint("user-", k), Proposed: int64(i)<<40 + int64(k) + 1})
		}
	}
	// Half the user ids in one batch per node (a unit), half one per call
	// (many units), so the race is also won by both.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			half := claims[i][:n/2]
			if i == 1 {
				half = claims[i][n/2:]
			}
			if errs[i] = ms[i].Claim(t.Context(), half); errs[i] != nil {
				return
			}
			for j := range claims[i] {
				if claims[i][j].AmplitudeID == 0 {
					if errs[i] = ms[i].Claim(t.Context(), claims[i][j:j+1]); errs[i] != nil {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	won := map[string]int{}
	winner := map[string]identity.Claim{}
	for i := range 2 {
		for _, c := range claims[i] {
			if c.AmplitudeID == 0 {
				t.Fatalf("node %d: %s has no winner", i, c.UserID)
			}
			if w, ok := winner[c.UserID]; ok && (w.AmplitudeID != c.AmplitudeID || w.Node != c.Node) {
				t.Fatalf("%s: node a reads %d by %s, node b %d by %s", c.UserID, w.AmplitudeID, w.Node, c.AmplitudeID, c.Node)
			}
			winner[c.UserID] = c
			if c.AmplitudeID == c.Proposed {
				won[c.Node]++
			} else if c.Node == []string{"a", "b"}[i] {
				t.Fatalf("node %d lost %s but the claim names it", i, c.UserID)
			}
		}
	}
	if won["a"]+won["b"] != n {
		t.Fatalf("%d user ids won (a %d, b %d), want %d", won["a"]+won["b"], won["a"], won["b"], n)
	}
	t.Logf("a won %d, b won %d", won["a"], won["b"])

	// A replayed claim with another proposal reads the first winner.
	again := []identity.Claim{{ProjectID: 1, UserID: "user-7", Proposed: 999}, {ProjectID: 2, UserID: "user-7", Proposed: 998}}
	if err := ms[0].Claim(t.Context(), again); err != nil {
		t.Fatal(err)
	}
	if w := winner["user-7"]; again[0].AmplitudeID != w.AmplitudeID || again[0].Node != w.Node {
		t.Errorf("claim again: %+v, want %+v", again[0], w)
	}
	if again[1].AmplitudeID != 998 || again[1].Node != "a" {
		t.Errorf("the same user id in another project: %+v, want its own claim", again[1])
	}
}

// Refresh returns another node's newer rows only, once per version.
func TestIdentityMapPublishRefresh(t *testing.T) {
	ms := openIdentityMaps(t, "a", "b")
	a, b := ms[0], ms[1]
	ref := []identity.UserRef{{ProjectID: 1, AmplitudeID: 5}, {ProjectID: 1, AmplitudeID: 6}}
	row := storage.User{ProjectID: 1, AmplitudeID: 5, UserID: "u", Properties: []byte(`{"n":1}`),
		FirstSeen: 10, LastSeen: 20, DeviceIDs: []string{"d1"}, FirstPlatform: "iOS", FirstCountry: "FR"}
	anon := storage.User{ProjectID: 1, AmplitudeID: 6} // not identified: not published
	if err := a.Publish(t.Context(), []storage.User{anon, row, row}); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Refresh(t.Context(), ref); err != nil || len(got) != 0 {
		t.Fatalf("a refreshes its own row: %+v %v", got, err)
	}
	got, err := b.Refresh(t.Context(), ref)
	if err != nil || len(got) != 1 || fmt.Sprintf("%+v", got[0]) != fmt.Sprintf("%+v", row) {
		t.Fatalf("b refreshes %+v %v, want %+v", got, err, row)
	}
	if got, err := b.Refresh(t.Context(), ref); err != nil || len(got) != 0 {
		t.Fatalf("b refreshes again: %+v %v, want nothing new", got, err)
	}
	row2 := row
	row2.Properties, row2.DeviceIDs = []byte(`{"n":3}`), []string{"d1", "d2"}
	if err := b.Publish(t.Context(), []storage.User{row2}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Refresh(t.Context(), ref); err != nil || len(got) != 0 {
		t.Fatalf("b refreshes after its own write: %+v %v", got, err)
	}
	got, err = a.Refresh(t.Context(), ref)
	if err != nil || len(got) != 1 || string(got[0].Properties) != `{"n":3}` || fmt.Sprint(got[0].DeviceIDs) != "[d1 d2]" {
		t.Fatalf("a refreshes %+v %v, want b's row", got, err)
	}
	row3 := row2
	row3.Properties = nil
	if err := a.Publish(t.Context(), []storage.User{row3}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Refresh(t.Context(), ref); err != nil || len(got) != 1 || got[0].Properties != nil {
		t.Fatalf("b refreshes %+v %v, want an empty table", got, err)
	}
}
