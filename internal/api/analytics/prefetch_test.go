package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/query"
)

// countQuerier counts the analyses that reach the store; each waits for
// release (when not nil), then fails with errStore.
type countQuerier struct {
	n       atomic.Int64
	release chan struct{}
}

var errStore = errors.New("store says no")

func (q *countQuerier) QueryContext(ctx context.Context, _ string, _ ...any) (*sql.Rows, error) {
	q.n.Add(1)
	if q.release != nil {
		select {
		case <-q.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, errStore
}

func prefetchService(t *testing.T, q query.Querier, maxAnalyses int) *Service {
	s := New(Deps{
		Engine: query.NewEngine(q, query.DuckDB{}), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC) }, MaxAnalyses: maxAnalyses,
	})
	s.h.project = func(context.Context) (meta.Project, bool) { return meta.Project{ID: 1, TimeZone: "UTC"}, true }
	return s
}

// post sends a definition to POST .../query and returns the status.
func post(s *Service, body string) int {
	rec := httptest.NewRecorder()
	s.h.wrap(s.h.query).ServeHTTP(rec, httptest.NewRequest("POST", "/query", strings.NewReader(body)))
	return rec.Code
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestPrefetchClaimedOnce: a prefetched analysis is handed to the first
// query with the same definition (however its JSON is written) instead
// of running again, and only to that one; definitions that do not parse
// are not started, nor one already waiting.
func TestPrefetchClaimedOnce(t *testing.T) {
	q := &countQuerier{}
	s := prefetchService(t, q, 2)
	p := query.Project{ID: 1, TimeZone: "UTC"}
	def := `{"type":"segmentation","version":1,"events":[{"event_type":"Play"}],"range":{"last":7,"unit":"day"}}`
	same := `{ "range": {"unit":"day","last":7}, "events":[{"event_type":"Play"}], "version":1, "type":"segmentation" }`
	if n := s.Prefetch(p, raws(def, def, `{"type":"funnel","steps":[]}`, `not json`)); n != 1 {
		t.Fatalf("started %d, want 1 (the duplicate and the bad ones skipped)", n)
	}
	eventually(t, "the prefetch to run", func() bool { return q.n.Load() == 1 })
	if code := post(s, same); code != http.StatusInternalServerError {
		t.Fatalf("claim: status %d, want the prefetch's error (500)", code)
	}
	if n := q.n.Load(); n != 1 {
		t.Fatalf("store reached %d times after the claim, want 1", n)
	}
	if code := post(s, same); code != http.StatusInternalServerError || q.n.Load() != 2 {
		t.Fatalf("second query: status %d, store reached %d times; want it run anew (2)", code, q.n.Load())
	}
	// Another project's query does not take this project's prefetch.
	s.Prefetch(p, raws(def))
	eventually(t, "the second prefetch", func() bool { return q.n.Load() == 3 })
	s.h.project = func(context.Context) (meta.Project, bool) { return meta.Project{ID: 2, TimeZone: "UTC"}, true }
	post(s, def)
	if n := q.n.Load(); n != 4 {
		t.Fatalf("store reached %d times, want 4: project 2 ran its own", n)
	}
	if n := s.h.flights.len(); n != 1 {
		t.Fatalf("%d flights kept, want project 1's unclaimed one", n)
	}
}

// TestPrefetchNoDeadlock: with one analysis at a time, queries waiting
// for prefetched results hold no slot, so the prefetches behind the
// first still run and every query is answered.
func TestPrefetchNoDeadlock(t *testing.T) {
	q := &countQuerier{release: make(chan struct{})}
	s := prefetchService(t, q, 1)
	p := query.Project{ID: 1, TimeZone: "UTC"}
	defs := []string{
		`{"type":"segmentation","version":1,"events":[{"event_type":"A"}],"range":{"last":7,"unit":"day"}}`,
		`{"type":"segmentation","version":1,"events":[{"event_type":"B"}],"range":{"last":7,"unit":"day"}}`,
		`{"type":"segmentation","version":1,"events":[{"event_type":"C"}],"range":{"last":7,"unit":"day"}}`,
	}
	if n := s.Prefetch(p, raws(defs...)); n != 3 {
		t.Fatalf("started %d", n)
	}
	eventually(t, "the first prefetch", func() bool { return q.n.Load() == 1 })
	var wg sync.WaitGroup
	codes := make([]int, len(defs))
	for i := len(defs) - 1; i >= 0; i-- { // the last tile asks first
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = post(s, defs[i]) }()
	}
	eventually(t, "every query to claim its prefetch", func() bool { return s.h.flights.len() == 0 })
	close(q.release)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("queries still waiting: deadlock")
	}
	if n := q.n.Load(); n != 3 {
		t.Fatalf("store reached %d times, want 3", n)
	}
	for i, c := range codes {
		if c != http.StatusInternalServerError {
			t.Errorf("query %d: status %d", i, c)
		}
	}
}

func raws(ss ...string) (out []json.RawMessage) {
	for _, s := range ss {
		out = append(out, json.RawMessage(s))
	}
	return out
}
