package analytics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/api"
)

// TestGate admits MaxAnalyses analyses at once: the next one waits for a
// slot, light reads do not wait, and a request whose client leaves while
// it waits never runs.
func TestGate(t *testing.T) {
	entered := make(chan string, 10)
	release := make(chan struct{})
	block := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- name
			<-release
		})
	}
	rs := newGate(1).gateRoutes([]api.Route{
		{Path: "/api/2/funnels", Handler: block("funnels")},
		{Path: "/api/2/retention", Handler: block("query")},
		{Path: nativePrefix + "/events", Handler: block("events")},
	})
	serve := func(i int, ctx context.Context) chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			rs[i].Handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, "GET", "/", nil))
		}()
		return done
	}
	next := func() string {
		select {
		case n := <-entered:
			return n
		case <-time.After(10 * time.Second):
			t.Fatal("no handler entered")
			return ""
		}
	}
	none := func(what string) {
		select {
		case n := <-entered:
			t.Fatalf("%s: handler %s entered", what, n)
		case <-time.After(100 * time.Millisecond):
		}
	}

	a := serve(0, context.Background())
	if n := next(); n != "funnels" {
		t.Fatalf("first: %s", n)
	}
	b := serve(1, context.Background())
	none("second analysis while the first runs")
	// The catalog is not an analysis: it runs at once.
	c := serve(2, context.Background())
	if n := next(); n != "events" {
		t.Fatalf("light read: %s", n)
	}
	// A waiting request whose client leaves returns without running.
	ctx, cancel := context.WithCancel(context.Background())
	d := serve(0, ctx)
	cancel()
	select {
	case <-d:
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled request still waiting")
	}
	// The first finishes: exactly the waiting one is admitted.
	release <- struct{}{} // one of funnels, events
	release <- struct{}{}
	if n := next(); n != "query" {
		t.Fatalf("admitted after release: %s", n)
	}
	close(release)
	for _, ch := range []chan struct{}{a, b, c} {
		<-ch
	}
	none("after all")
}

type nopHandler struct{}

func (*nopHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

// TestGateOff: a limit of 0 leaves every route as it was.
func TestGateOff(t *testing.T) {
	h := &nopHandler{}
	rs := newGate(0).gateRoutes([]api.Route{{Path: "/api/2/funnels", Handler: h}})
	if rs[0].Handler != http.Handler(h) {
		t.Fatal("newGate(0) wrapped a route")
	}
}
