package analytics

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/query"
)

// maxDefinition bounds a query definition body.
const maxDefinition = 1 << 20

// queryResponse is the answer of POST .../query: the definition as
// validated (defaults filled in) and its result.
type queryResponse struct {
	Definition any           `json:"definition"`
	Result     *query.Result `json:"result"`
}

func (h *handlers) query(r *http.Request, p query.Project) (any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDefinition+1))
	if err != nil {
		return nil, api.BadRequest("read body: %v", err)
	}
	if len(body) > maxDefinition {
		return nil, api.BadRequest("definition larger than %d bytes", maxDefinition)
	}
	a, err := h.prepare(p, body)
	if err != nil {
		return nil, err
	}
	// A dashboard page started this chart when it was requested
	// (prefetch.go): take its result.
	if f := h.flights.claim(a.key); f != nil {
		v, err := f.wait(r.Context())
		if err != nil {
			return nil, err
		}
		return prefetched{v}, nil
	}
	if err := h.gate.acquire(r.Context()); err != nil {
		return nil, err
	}
	defer h.gate.release()
	return a.run(r.Context(), h.d.Now())
}

// since reads the days parameter (default 30) as a UTC ms lower bound.
func (h *handlers) since(r *http.Request) (int64, error) {
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return 0, api.BadRequest("days: want 1 to 3650, got %q", v)
		}
		days = n
	}
	return h.d.Now().Add(-time.Duration(days) * 24 * time.Hour).UnixMilli(), nil
}

func (h *handlers) events(r *http.Request, p query.Project) (any, error) {
	since, err := h.since(r)
	if err != nil {
		return nil, err
	}
	evs, err := h.d.Engine.EventTypes(r.Context(), p, since)
	if err != nil {
		return nil, err
	}
	return map[string]any{"events": evs}, nil
}

func (h *handlers) properties(r *http.Request, p query.Project) (any, error) {
	since, err := h.since(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	props, err := h.d.Engine.Properties(r.Context(), p, q.Get("type"), q.Get("event_type"), since)
	if err != nil {
		return nil, err
	}
	return map[string]any{"properties": props}, nil
}

func (h *handlers) propertyValues(r *http.Request, p query.Project) (any, error) {
	since, err := h.since(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), "limit", 100)
	if err != nil {
		return nil, err
	}
	typ := q.Get("type")
	if typ == "" {
		typ = query.PropEvent
	}
	vals, err := h.d.Engine.PropertyValues(r.Context(), p, query.PropRef{Type: typ, Key: q.Get("key")}, q.Get("event_type"), since, limit)
	if err != nil {
		return nil, err
	}
	return map[string]any{"values": vals}, nil
}

func (h *handlers) userSearch(r *http.Request, p query.Project) (any, error) {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), "limit", 100)
	if err != nil {
		return nil, err
	}
	return h.d.Engine.SearchUsers(r.Context(), p, q.Get("q"), q.Get("prop"), limit)
}

func amplitudeID(s, name string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, api.BadRequest("%s: want an Amplitude ID (a positive integer), got %q", name, s)
	}
	return id, nil
}

func (h *handlers) userProfile(r *http.Request, p query.Project) (any, error) {
	id, err := amplitudeID(r.PathValue("amplitude_id"), "amplitude_id")
	if err != nil {
		return nil, err
	}
	return h.d.Engine.UserProfile(r.Context(), p, id)
}

func (h *handlers) userActivity(r *http.Request, p query.Project) (any, error) {
	id, err := amplitudeID(r.PathValue("amplitude_id"), "amplitude_id")
	if err != nil {
		return nil, err
	}
	opts, err := activityOptions(r)
	if err != nil {
		return nil, err
	}
	return h.d.Engine.UserActivity(r.Context(), p, id, opts)
}

func activityOptions(r *http.Request) (query.ActivityOptions, error) {
	q := r.URL.Query()
	var o query.ActivityOptions
	var err error
	if o.Offset, err = intParam(q.Get("offset"), "offset", 0); err != nil {
		return o, err
	}
	if o.Limit, err = intParam(q.Get("limit"), "limit", 1000); err != nil {
		return o, err
	}
	if o.Limit < 1 || o.Limit > 1000 {
		return o, api.BadRequest("limit: want 1 to 1000, got %d", o.Limit)
	}
	switch q.Get("direction") {
	case "", "latest":
	case "earliest":
		o.Earliest = true
	default:
		return o, api.BadRequest("direction: want latest or earliest, got %q", q.Get("direction"))
	}
	return o, nil
}

func intParam(s, name string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, api.BadRequest("%s: want a non-negative integer, got %q", name, s)
	}
	return n, nil
}
