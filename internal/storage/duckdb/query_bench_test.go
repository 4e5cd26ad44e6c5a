package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/query"
	"github.com/crest-analytics/crest/internal/storage"
)

// queryBenchEvents is the size of the synthetic data set of the SQL
// benchmarks (CREST_QUERY_BENCH_EVENTS, default 1,000,000).
func queryBenchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("CREST_QUERY_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchDB opens a DuckDB file of n synthetic demo-shaped events over the
// 90 days before now (one user per 200 events, ten event types, a genre
// event property, a plan user property, twelve countries). It is cached
// under os.TempDir() by n; the time range is fixed to the day it was made.
func benchDB(b *testing.B, n int) (*DB, time.Time) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("crest-sqlbench-%d", n))
	path := filepath.Join(dir, "events.duckdb")
	marker := filepath.Join(dir, "loaded")
	if raw, err := os.ReadFile(marker); err == nil {
		end, err := time.Parse(time.RFC3339, string(raw))
		if err == nil {
			db, err := Open(context.Background(), path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			return db, end
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		b.Fatal(err)
	}
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	start := end.AddDate(0, 0, -90).UnixMilli()
	span := end.UnixMilli() - start
	rng := rand.New(rand.NewPCG(1, 2))
	types := []string{"Play Song", "Play Song", "Play Song", "Search", "Pause Song", "Open App", "Add to Playlist", "Share Song", "session_start", "session_end"}
	genres := []string{"pop", "rock", "hip-hop", "jazz", "classical", "electronic", "country", "latin"}
	countries := []string{"United States", "United Kingdom", "Germany", "France", "Brazil", "India", "Japan", "Canada", "Australia", "Mexico", "Spain", "Italy"}
	nUsers := max(n/200, 1)
	users := make([]storage.User, nUsers)
	for i := range users {
		users[i] = storage.User{ProjectID: 1, AmplitudeID: int64(i + 1), UserID: "user-" + strconv.Itoa(i), FirstSeen: end.UnixMilli(), Properties: []byte(`{}`)}
	}
	const chunk = 200_000
	seq := int64(0)
	for done, pos := 0, uint64(1); done < n; pos++ {
		m := min(chunk, n-done)
		// Times increase through the load, as ingestion would store them.
		u := storage.Unit{Position: pos, Events: make([]event.Event, m)}
		for j := range u.Events {
			seq++
			uid := rng.IntN(nUsers)
			t := start + span*int64(done+j)/int64(n)
			plan := "free"
			if uid%5 == 0 {
				plan = "paid"
			}
			e := &u.Events[j]
			*e = event.Event{
				ProjectID: 1, EventType: types[rng.IntN(len(types))], UserID: users[uid].UserID, DeviceID: "device-" + strconv.Itoa(uid),
				Time: t, ClientEventTime: t, ServerReceivedTime: t, ServerUploadTime: t, SessionID: t - t%1_800_000, EventID: seq,
				EventProperties: []byte(`{"genre":"` + genres[rng.IntN(len(genres))] + `","song_id":` + strconv.Itoa(rng.IntN(5000)) + `}`),
				UserProperties:  []byte(`{"plan":"` + plan + `","country":"` + countries[uid%len(countries)] + `"}`),
				Country:         countries[uid%len(countries)], Platform: "iOS", AmplitudeID: int64(uid + 1), Seq: seq,
			}
			users[uid].FirstSeen = min(users[uid].FirstSeen, t)
			users[uid].LastSeen = max(users[uid].LastSeen, t)
		}
		done += m
		if done == n {
			u.Users = users
		}
		if err := db.Apply(context.Background(), &u); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(marker, []byte(end.Format(time.RFC3339)), 0o644); err != nil {
		b.Fatal(err)
	}
	return db, end
}

// BenchmarkQuerySQL times the analyses of issue 4 on the engine alone
// (no HTTP) and reports the median. It reads the synthetic data set, or
// the demo data's events.duckdb named by CREST_FUNNEL_BENCH_DB. The
// property cases run twice: "columns" reads the promoted property
// columns as the server does (promote.go), "json" parses the JSON
// property columns, the baseline measured in the same run.
func BenchmarkQuerySQL(b *testing.B) {
	db, last := funnelBenchDB(b)
	defer db.Close()
	end := last.AddDate(0, 0, 1)
	engines := []struct {
		name string
		eng  *query.Engine
	}{
		{"columns", query.NewEngine(db, query.DuckDB{Columns: db})},
		{"json", query.NewEngine(db, query.DuckDB{})},
		// The store without FeedInts: unique users counted in SQL, the
		// baseline of the fed path (segmentation_fed.go).
		{"sql", query.NewEngine(sqlStore{db, db}, query.DuckDB{Columns: db})},
	}
	p := query.Project{ID: 1, TimeZone: "UTC"}
	first := last.AddDate(0, 0, -89).Format("2006-01-02")
	seg := func(def string) func(context.Context, *query.Engine) error {
		s, err := query.ParseSegmentation([]byte(fmt.Sprintf(def, first, last.Format("2006-01-02"))))
		if err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context, eng *query.Engine) error {
			_, err := eng.Segmentation(ctx, p, s, end)
			return err
		}
	}
	cases := []struct {
		name  string
		props bool // reads properties: run on the columns and JSON engines
		fed   bool // unique users without a group-by: also on the SQL-only engine
		run   func(context.Context, *query.Engine) error
	}{
		{"uniques-90d", false, true, seg(`{"type":"segmentation","version":1,"events":[{"event_type":"Play Song"}],"range":{"start":%q,"end":%q}}`)},
		{"daily-active-90d", false, true, seg(`{"type":"segmentation","version":1,"events":[{"event_type":"_active"}],"range":{"start":%q,"end":%q}}`)},
		{"totals-by-event-prop", true, false, seg(`{"type":"segmentation","version":1,"metric":"totals","events":[{"event_type":"Play Song","group_by":[{"type":"event","key":"genre"}]}],"range":{"start":%q,"end":%q}}`)},
		{"uniques-user-filter-by-country", true, false, seg(`{"type":"segmentation","version":1,"events":[{"event_type":"Play Song","filters":[{"type":"user","key":"plan","op":"is","values":["paid"]}],"group_by":[{"type":"device","key":"country"}]}],"range":{"start":%q,"end":%q}}`)},
		{"user-activity", false, false, func(ctx context.Context, eng *query.Engine) error {
			_, err := eng.UserProfile(ctx, p, 100)
			if err == nil {
				_, err = eng.UserActivity(ctx, p, 100, query.ActivityOptions{})
			}
			return err
		}},
	}
	for _, c := range cases {
		for _, e := range engines {
			if e.name == "json" && !c.props || e.name == "sql" && !c.fed {
				continue
			}
			b.Run(c.name+"/"+e.name, func(b *testing.B) {
				medianRuns(b, func(ctx context.Context) error { return c.run(ctx, e.eng) })
			})
		}
	}
}
