// Package analytics serves Crest's read APIs over the query engine: the
// native /api/v1/projects/{project}/... endpoints of the web app and the
// Amplitude-compatible Dashboard REST API under /api/2 (spec §6). The api
// package checks each route's rule and resolves the project before a
// handler runs; handlers only read api.ProjectFrom.
package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/query"
)

// Deps are what the handlers need. Engine and Logger are required.
type Deps struct {
	Engine *query.Engine
	Logger *slog.Logger
	// Now is the clock for relative ranges and rate limits (default
	// time.Now).
	Now func() time.Time
	// Limits are the /api/2 rate limits per project (ratelimit.go); the
	// zero value disables them (the server's defaults are Amplitude's).
	Limits Limits
	// MaxAnalyses is how many analyses (segmentation, funnels,
	// retention, sessions, the users behind a data point) run at once;
	// more wait their turn (gate.go). 0: no limit.
	MaxAnalyses int
}

// nativePrefix is the native API's project path.
const nativePrefix = "/api/v1/projects/{project}"

// Service is the analytics API: its routes and the prefetching of
// dashboards (prefetch.go).
type Service struct {
	h      *handlers
	routes []api.Route
}

// New builds the service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	h := &handlers{d: d, project: api.ProjectFrom, gate: newGate(d.MaxAnalyses), flights: newFlights()}
	viewer := api.ProjectRole(meta.RoleViewer)
	const p = nativePrefix
	routes := newLimiter(d.Limits, d.Now, h.project).limitRoutes(h.gate.gateRoutes(append(h.analysisRoutes(), []api.Route{
		{Method: "POST", Path: p + "/query", Rule: viewer, Handler: h.wrap(h.query)},
		{Method: "POST", Path: p + "/query/users", Rule: viewer, Handler: h.wrap(h.pointUsers)},
		{Method: "GET", Path: p + "/events", Rule: viewer, Handler: h.wrap(h.events)},
		{Method: "GET", Path: p + "/properties", Rule: viewer, Handler: h.wrap(h.properties)},
		{Method: "GET", Path: p + "/properties/values", Rule: viewer, Handler: h.wrap(h.propertyValues)},
		{Method: "GET", Path: p + "/users/search", Rule: viewer, Handler: h.wrap(h.userSearch)},
		{Method: "GET", Path: p + "/users/{amplitude_id}", Rule: viewer, Handler: h.wrap(h.userProfile)},
		{Method: "GET", Path: p + "/users/{amplitude_id}/activity", Rule: viewer, Handler: h.wrap(h.userActivity)},

		{Method: "GET", Path: "/api/2/events/segmentation", Rule: api.Basic, Handler: h.wrap(h.ampSegmentation)},
		{Method: "GET", Path: "/api/2/events/list", Rule: api.Basic, Handler: h.wrap(h.ampEventsList)},
		{Method: "GET", Path: "/api/2/users", Rule: api.Basic, Handler: h.wrap(h.ampUsers)},
		{Method: "GET", Path: "/api/2/usersearch", Rule: api.Basic, Handler: h.wrap(h.ampUserSearch)},
		{Method: "GET", Path: "/api/2/useractivity", Rule: api.Basic, Handler: h.wrap(h.ampUserActivity)},
	}...)))
	return &Service{h: h, routes: routes}
}

// Routes returns the analytics routes: native ones with the project
// viewer rule, /api/2 ones with HTTP Basic (API key and secret key).
func (s *Service) Routes() []api.Route { return s.routes }

// Routes returns the routes of New(d).
func Routes(d Deps) []api.Route { return New(d).Routes() }

type handlers struct {
	d Deps
	// project returns the request's project (api.ProjectFrom; a test seam).
	project func(context.Context) (meta.Project, bool)
	// gate bounds the analyses running at once (gate.go).
	gate gate
	// flights are the prefetched analyses (prefetch.go).
	flights *flights
}

// wrap adapts a handler returning (response, error) and maps the
// query layer's errors: a bad definition or parameter is a 400 that says
// what is wrong, an unknown user a 404.
func (h *handlers) wrap(fn func(r *http.Request, p query.Project) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mp, ok := h.project(r.Context())
		if !ok {
			api.WriteError(w, r, errors.New("analytics: route without a project rule"))
			return
		}
		v, err := fn(r, query.Project{ID: mp.ID, TimeZone: mp.TimeZone})
		if err != nil {
			api.WriteError(w, r, mapError(err))
			return
		}
		if pf, ok := v.(prefetched); ok {
			w.Header().Set("X-Crest-Prefetched", "true")
			v = pf.v
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := json.NewEncoder(w).Encode(v); err != nil {
			h.d.Logger.Debug("write response", "err", err)
		}
	})
}

func mapError(err error) error {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, query.ErrInvalid):
		return api.BadRequest("%s", err.Error())
	case errors.Is(err, query.ErrUserNotFound):
		return api.Errorf(http.StatusNotFound, "not_found", "%s", err.Error())
	}
	return err
}
