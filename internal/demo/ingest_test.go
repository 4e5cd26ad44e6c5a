package demo

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/ingest"
)

type oneProject struct{}

func (oneProject) ProjectByAPIKey(_ context.Context, key string) (ingest.Project, bool, error) {
	return ingest.Project{ID: 1}, key == testAPIKey, nil
}

type collectSink struct {
	mu     sync.Mutex
	events []event.Event
}

func (s *collectSink) Write(_ context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, b.Events...)
	return nil
}

// TestSendThroughCrestIngest sends the demo through Crest's own ingestion
// handler: every event must be accepted and keep its fields.
func TestSendThroughCrestIngest(t *testing.T) {
	sink := &collectSink{}
	h := ingest.NewHandler(oneProject{}, sink, slog.New(slog.NewTextHandler(io.Discard, nil)), ingest.Options{})
	mux := http.NewServeMux()
	for _, r := range h.Routes() {
		if r.Path == "/" {
			continue
		}
		mux.Handle(r.Method+" "+r.Path, r.Handler)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	gen := Options{Events: 20_000, Seed: 11, Now: testNow}
	st, err := sendWith(t.Context(), gen, SendOptions{URL: srv.URL, APIKey: testAPIKey, Concurrency: 2, Batch: 2000, Gzip: true}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != int64(gen.Events) || len(sink.events) != gen.Events {
		t.Fatalf("sent %d, ingested %d, want %d", st.Events, len(sink.events), gen.Events)
	}
	start, end := gen.Range()
	seen := map[string]int{}
	for i := range sink.events {
		e := &sink.events[i]
		seen[e.EventType]++
		if e.ClientEventTime < start || e.ClientEventTime > end || e.SessionID <= 0 || e.EventID <= 0 || e.InsertID == "" ||
			e.DeviceID == "" || e.Platform == "" || e.Country == "" || e.Library == "" || e.IP == "" {
			t.Fatalf("event %d lost fields: %+v", i, e)
		}
		switch e.EventType {
		case evPurchase:
			if e.Price == nil || e.Quantity == nil || e.Revenue == nil || e.ProductID == "" || e.RevenueType == "" {
				t.Fatalf("Purchase lost its revenue fields: %+v", e)
			}
		case evPlaySong, evRevenue:
			if len(e.EventProperties) == 0 || len(e.UserProperties) == 0 {
				t.Fatalf("%s lost its properties: %+v", e.EventType, e)
			}
		}
	}
	for _, typ := range []string{evPlaySong, evPurchase, evRevenue, evIdentify, evSessionStart, evSessionEnd} {
		if seen[typ] == 0 {
			t.Errorf("no %s among the ingested events", typ)
		}
	}
}
