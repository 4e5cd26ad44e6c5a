package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/query"
	"github.com/crest-analytics/crest/internal/storage"
)

// feedSpy is the store with its SQL recorded, FeedInts included.
type feedSpy struct {
	*DB
	mu   sync.Mutex
	sqls []string
}

func (s *feedSpy) FeedInts(ctx context.Context, build func(feed func(string) string) string) ([][]int64, error) {
	return s.DB.FeedInts(ctx, func(feed func(string) string) string {
		q := build(feed)
		s.mu.Lock()
		s.sqls = append(s.sqls, q)
		s.mu.Unlock()
		return q
	})
}

// TestSegmentationFedMatchesSQL: unique users without a group-by are
// counted from fed integers (the SQL says so), and the result equals the
// SQL path's over random events with merged ids, for each interval,
// with a filter, and with new and active users.
func TestSegmentationFedMatchesSQL(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "crest.duckdb"), Options{MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	end := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	start := end.AddDate(0, 0, -40).UnixMilli()
	rng := rand.New(rand.NewPCG(7, 9))
	types := []string{"Play", "Play", "Search", "Open", "session_start"}
	users := make([]storage.User, 300)
	for i := range users {
		users[i] = storage.User{ProjectID: 1, AmplitudeID: int64(i + 1), UserID: "u" + strconv.Itoa(i), FirstSeen: end.UnixMilli(), Properties: []byte(`{}`)}
	}
	u := storage.Unit{Position: 1}
	for i := range 20_000 {
		uid := rng.IntN(len(users))
		ts := start + rng.Int64N(end.UnixMilli()-start)
		u.Events = append(u.Events, event.Event{
			ProjectID: 1, EventType: types[rng.IntN(len(types))], UserID: users[uid].UserID, DeviceID: "d" + strconv.Itoa(uid),
			Time: ts, ClientEventTime: ts, ServerReceivedTime: ts, ServerUploadTime: ts, SessionID: ts - ts%1_800_000, EventID: int64(i),
			EventProperties: []byte(`{"genre":"` + []string{"pop", "rock"}[rng.IntN(2)] + `"}`), UserProperties: []byte(`{}`),
			Platform: []string{"iOS", "Web"}[uid%2], AmplitudeID: int64(uid + 1), Seq: int64(i + 1),
		})
		users[uid].FirstSeen = min(users[uid].FirstSeen, ts)
		users[uid].LastSeen = max(users[uid].LastSeen, ts)
	}
	u.Users = users
	if err := db.Apply(ctx, &u); err != nil {
		t.Fatal(err)
	}
	// Merged ids: two into a third, one into an id no event has (beyond
	// the events' largest), one chain undone.
	for _, m := range []struct {
		from, into int64
		undone     bool
	}{{5, 7, false}, {9, 7, false}, {11, 5000, false}, {13, 2, true}} {
		if _, err := db.db.ExecContext(ctx, `INSERT INTO merges VALUES (1, ?, ?, 0, 0, 'd', ?)`, m.from, m.into, m.undone); err != nil {
			t.Fatal(err)
		}
	}
	spy := &feedSpy{DB: db}
	fed := query.NewEngine(spy, query.DuckDB{Columns: db})
	plain := query.NewEngine(sqlStore{db, db}, query.DuckDB{Columns: db})
	p := query.Project{ID: 1, TimeZone: "America/New_York"}
	defs := []string{
		`{"type":"segmentation","version":1,"events":[{"event_type":"_active"}],"range":{"last":30,"unit":"day"},"interval":"day"}`,
		`{"type":"segmentation","version":1,"events":[{"event_type":"Play"}],"range":{"last":7,"unit":"day"},"interval":"hour"}`,
		`{"type":"segmentation","version":1,"events":[{"event_type":"Play"},{"event_type":"Search"}],"range":{"last":35,"unit":"day"},"interval":"week"}`,
		`{"type":"segmentation","version":1,"events":[{"event_type":"_all"}],"range":{"start":"2024-01-01","end":"2024-02-29"},"interval":"month"}`,
		`{"type":"segmentation","version":1,"events":[{"event_type":"Play","filters":[{"type":"event","key":"genre","op":"is","values":["pop"]}]}],"range":{"last":30,"unit":"day"},"interval":"day"}`,
		`{"type":"segmentation","version":1,"events":[{"event_type":"Search"}],"segments":[{"name":"new","users":"new"}],"range":{"last":45,"unit":"day"},"interval":"day"}`,
		`{"type":"segmentation","version":1,"events":[{"event_type":"Play"}],"segments":[{"name":"web","filters":[{"type":"device","key":"platform","op":"is","values":["Web"]}]}],"range":{"last":30,"unit":"day"},"interval":"day"}`,
		`{"type":"segmentation","version":1,"metric":"active_pct","events":[{"event_type":"Play"}],"range":{"last":30,"unit":"day"},"interval":"day"}`,
	}
	for i, def := range defs {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, err := query.ParseSegmentation([]byte(def))
			if err != nil {
				t.Fatal(err)
			}
			spy.sqls = nil
			got, err := fed.Segmentation(ctx, p, s, end)
			if err != nil {
				t.Fatal(err)
			}
			want, err := plain.Segmentation(ctx, p, s, end)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(spy.sqls, "\n"), "query.Segmentation.fed") {
				t.Errorf("the fed path did not run")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("fed and SQL results differ:\nfed %s\nsql %s", dump(got), dump(want))
			}
			if len(want.Series) == 0 || want.Series[0].Collapsed == 0 {
				t.Errorf("empty result: the case checks nothing")
			}
		})
	}
}

func dump(r *query.Result) string {
	var b strings.Builder
	for _, s := range r.Series {
		fmt.Fprintf(&b, "%s %v %v\n", s.Label, s.Values, s.Collapsed)
	}
	return b.String()
}
