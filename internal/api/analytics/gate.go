package analytics

import (
	"context"
	"net/http"

	"github.com/crest-analytics/crest/internal/api"
)

// gate bounds how many analyses run at once across the server. An
// analysis already uses every core it gets (DuckDB's threads, the funnel
// kernel's workers), so six at once on two cores gain nothing over fewer
// at a time and all finish late; with the gate the first charts of a
// dashboard arrive early. Measured on a six-chart dashboard it was a
// small gain (1.92 s vs 2.01 s, docs/webapp.md, "Dashboard render time").
// Light reads (catalog, user look-ups) do not wait. The web app's
// POST .../query takes its slot itself (native.go), after looking for a
// result a dashboard page prefetched (prefetch.go): waiting for one must
// not hold a slot that the prefetch needs.
type gate chan struct{}

// newGate returns a gate admitting n analyses at once; nil (no limit)
// when n <= 0.
func newGate(n int) gate {
	if n <= 0 {
		return nil
	}
	return make(gate, n)
}

// gatedPaths are the routes whose handlers run an analysis over events.
var gatedPaths = map[string]bool{
	nativePrefix + "/query/users": true,
	"/api/2/events/segmentation":  true,
	"/api/2/users":                true,
	"/api/2/funnels":              true,
	"/api/2/retention":            true,
	"/api/2/sessions/length":      true,
	"/api/2/sessions/average":     true,
	"/api/2/sessions/peruser":     true,
}

// gateRoutes puts the analysis routes of rs behind g.
func (g gate) gateRoutes(rs []api.Route) []api.Route {
	if g == nil {
		return rs
	}
	for i, r := range rs {
		if gatedPaths[r.Path] {
			rs[i].Handler = g.wrap(r.Handler)
		}
	}
	return rs
}

// acquire waits for a slot; it fails only when ctx ends first. A nil
// gate admits everyone.
func (g gate) acquire(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release frees the slot acquire took.
func (g gate) release() {
	if g != nil {
		<-g
	}
}

// wrap runs next once a slot is free. A request whose client leaves
// while it waits is dropped without running.
func (g gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.acquire(r.Context()) != nil {
			return
		}
		defer g.release()
		next.ServeHTTP(w, r)
	})
}
