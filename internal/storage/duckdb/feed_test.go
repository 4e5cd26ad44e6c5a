package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/query"
	"github.com/crest-analytics/crest/internal/storage"
)

func TestFeedInts(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "f.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 100_000
	chunks, err := db.FeedInts(t.Context(), func(feed func(string) string) string {
		return fmt.Sprintf("SELECT count(*), max(%s) FROM range(%d) r(i) WHERE i %% 3 <> 1", feed("i * 1000003"), n)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, c := range chunks {
		got = append(got, c...)
	}
	slices.Sort(got)
	var want []int64
	for i := range int64(n) {
		if i%3 != 1 {
			want = append(want, i*1000003)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("fed %d values, want %d (first %v)", len(got), len(want), got[:min(5, len(got))])
	}
	// A statement that does not hand over what it counts is an error.
	if _, err := db.FeedInts(t.Context(), func(feed func(string) string) string {
		return fmt.Sprintf("SELECT 5, max(%s) FROM range(3) r(i)", feed("i"))
	}); err == nil {
		t.Error("a miscounted feed succeeded")
	}
}

// listOnly hides the store's IntFeeder: the engine then takes the list
// feed.
type listOnly struct{ db *DB }

func (l listOnly) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return l.db.QueryContext(ctx, q, args...)
}

// countingFeeder counts the fed statements.
type countingFeeder struct {
	*DB
	n int
}

func (c *countingFeeder) FeedInts(ctx context.Context, build func(feed func(string) string) string) ([][]int64, error) {
	c.n++
	return c.DB.FeedInts(ctx, build)
}

// TestFedFunnelMatchesListFeed runs funnels over random users (some
// with merged ids, some with ids too large to pack) through the fed path
// and through the list feed, and requires identical results.
func TestFedFunnelMatchesListFeed(t *testing.T) {
	for _, big := range []bool{false, true} {
		t.Run(fmt.Sprintf("big-ids=%v", big), func(t *testing.T) {
			db, err := Open(t.Context(), filepath.Join(t.TempDir(), "f.duckdb"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rng := rand.New(rand.NewPCG(7, 11))
			base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
			types := []string{"A", "B", "C", "X", "Other"}
			u := &storage.Unit{Position: 1}
			seq := int64(0)
			for user := int64(1); user <= 3000; user++ {
				id := user
				if big && user%500 == 0 {
					id = user << 45
				}
				ids := []int64{id}
				if user%10 == 0 { // an anonymous id merged into the user
					ids = append(ids, id+1_000_000)
					u.Merges = append(u.Merges, storage.Merge{ProjectID: 1, FromID: id + 1_000_000, IntoID: id, Time: base, DeviceID: "d"})
				}
				nev := 1 + rng.IntN(12)
				for range nev {
					seq++
					tm := base + rng.Int64N(10*86_400_000)
					if rng.IntN(4) == 0 { // same-second clusters
						tm = tm - tm%1000 + int64(rng.IntN(3))
					}
					e := sparseDemoEvent()
					e.Seq, e.AmplitudeID, e.Time = seq, ids[rng.IntN(len(ids))], tm
					e.EventType = types[rng.IntN(len(types))]
					u.Events = append(u.Events, e)
				}
			}
			if err := db.Apply(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			feeder := &countingFeeder{DB: db}
			fed := query.NewEngine(feeder, query.DuckDB{})
			list := query.NewEngine(listOnly{db}, query.DuckDB{})
			p := query.Project{ID: 1, TimeZone: "Europe/Berlin"}
			now := time.UnixMilli(base).AddDate(0, 0, 12)
			defs := []string{
				`"steps":[{"event_type":"A"},{"event_type":"B"},{"event_type":"C"}],"window_seconds":86400`,
				`"steps":[{"event_type":"A"},{"event_type":"B"},{"event_type":"C"}],"window_seconds":3600,"resolution":"millisecond"`,
				`"steps":[{"event_type":"A"},{"event_type":"B"}],"order":"any","window_seconds":172800`,
				`"steps":[{"event_type":"A"},{"event_type":"B"},{"event_type":"C"}],"order":"exact","window_seconds":86400`,
				`"steps":[{"event_type":"A"},{"event_type":"B"},{"event_type":"C"}],"exclusions":[{"event_type":"X","from_step":1,"to_step":2}],"window_seconds":86400`,
				`"steps":[{"event_type":"A"},{"event_type":"A"},{"event_type":"B"}],"counting":"totals","window_seconds":7200`,
				`"steps":[{"event_type":"_active"},{"event_type":"C"}],"interval":"week","window_seconds":86400`,
				`"steps":[{"event_type":"A"},{"event_type":"B","optional":true},{"event_type":"C"}],"window_seconds":86400`,
			}
			for i, d := range defs {
				f, err := query.ParseFunnel([]byte(`{"type":"funnel","version":1,"range":{"start":"2026-03-01","end":"2026-03-10"},` + d + `}`))
				if err != nil {
					t.Fatalf("def %d: %v", i, err)
				}
				before := feeder.n
				a, err := fed.Funnel(t.Context(), p, f, now)
				if err != nil {
					t.Fatalf("def %d fed: %v", i, err)
				}
				if feeder.n != before+1 {
					t.Errorf("def %d: the fed path was not tried", i)
				}
				b, err := list.Funnel(t.Context(), p, f, now)
				if err != nil {
					t.Fatalf("def %d list: %v", i, err)
				}
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				if string(ja) != string(jb) {
					t.Errorf("def %d: fed and list feeds differ\nfed:  %s\nlist: %s", i, ja, jb)
				}
				if len(a.Series) == 0 || a.Series[0].Counts[0] == 0 {
					t.Errorf("def %d: empty funnel, the comparison proves nothing: %s", i, ja)
				}
				// The users behind the last step and behind the first
				// drop-off: the same pages from both paths.
				for _, pt := range []query.FunnelPoint{{Step: len(f.Steps) - 1}, {Step: 0, Outcome: query.OutcomeDropped}} {
					ua, err := fed.FunnelUsers(t.Context(), p, f, pt, 1000, 0, now)
					if err != nil {
						t.Fatalf("def %d fed users %+v: %v", i, pt, err)
					}
					ub, err := list.FunnelUsers(t.Context(), p, f, pt, 1000, 0, now)
					if err != nil {
						t.Fatalf("def %d list users %+v: %v", i, pt, err)
					}
					ja, _ := json.Marshal(ua)
					jb, _ := json.Marshal(ub)
					want := a.Series[0].Counts[pt.Step]
					if pt.Outcome == query.OutcomeDropped {
						want -= a.Series[0].Counts[pt.Step+1]
					}
					if f.Counting == "totals" { // the chart counts sequences, the page users
						want = ua.Total
					}
					if string(ja) != string(jb) || ua.Total != want {
						t.Errorf("def %d users %+v: fed and list feeds differ, or the chart counts %d\nfed:  %.300s\nlist: %.300s", i, pt, want, ja, jb)
					}
				}
			}
		})
	}
}
