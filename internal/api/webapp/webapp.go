// Package webapp serves the endpoints only the web app needs: saved
// charts and dashboards (viewers read, members write) and the live
// events feed. The api package checks each route's rule and resolves the
// project before a handler runs.
package webapp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/query"
)

// Deps are what the handlers need. Meta and Logger are required; the live
// feed needs Querier and Dialect (the event store the query engine reads).
type Deps struct {
	Meta    meta.Store
	Querier query.Querier
	Dialect query.Dialect
	Logger  *slog.Logger
	// Page serves the web app itself. With Prefetch, a dashboard's link
	// starts its charts' analyses as the page is sent (page.go); without
	// Page, no page route is added.
	Page     http.Handler
	Prefetch func(p meta.Project, defs []json.RawMessage) int
}

// Routes returns the web app's routes.
func Routes(d Deps) []api.Route {
	h := &handlers{d: d, project: api.ProjectFrom, account: api.AccountFrom}
	viewer, member := api.ProjectRole(meta.RoleViewer), api.ProjectRole(meta.RoleMember)
	const p = "/api/v1/projects/{project}"
	var pages []api.Route
	if d.Page != nil && d.Prefetch != nil {
		pages = append(pages, api.Route{Method: "GET", Path: "/projects/{project}/dashboards/{dashboard}",
			Rule: api.PageProject(meta.RoleViewer), Handler: http.HandlerFunc(h.dashboardPage)})
	}
	return append(pages, []api.Route{
		{Method: "GET", Path: p + "/live", Rule: viewer, Handler: h.wrap(h.live)},

		{Method: "GET", Path: p + "/charts", Rule: viewer, Handler: h.wrap(h.listCharts)},
		{Method: "POST", Path: p + "/charts", Rule: member, Handler: h.wrap(h.createChart)},
		{Method: "GET", Path: p + "/charts/{chart}", Rule: viewer, Handler: h.wrap(h.getChart)},
		{Method: "PUT", Path: p + "/charts/{chart}", Rule: member, Handler: h.wrap(h.updateChart)},
		{Method: "DELETE", Path: p + "/charts/{chart}", Rule: member, Handler: h.wrap(h.deleteChart)},

		{Method: "GET", Path: p + "/dashboards", Rule: viewer, Handler: h.wrap(h.listDashboards)},
		{Method: "POST", Path: p + "/dashboards", Rule: member, Handler: h.wrap(h.createDashboard)},
		{Method: "GET", Path: p + "/dashboards/{dashboard}", Rule: viewer, Handler: h.wrap(h.getDashboard)},
		{Method: "PUT", Path: p + "/dashboards/{dashboard}", Rule: member, Handler: h.wrap(h.updateDashboard)},
		{Method: "DELETE", Path: p + "/dashboards/{dashboard}", Rule: member, Handler: h.wrap(h.deleteDashboard)},
	}...)
}

type handlers struct {
	d Deps
	// project and account read the request's state (test seams).
	project func(context.Context) (meta.Project, bool)
	account func(context.Context) (meta.Account, bool)
}

// reply is a handler's answer: a status and a body (nil: none).
type reply struct {
	status int
	body   any
}

func ok(v any) reply { return reply{http.StatusOK, v} }

// wrap adapts a handler to http.Handler, writing its reply or its error.
func (h *handlers) wrap(fn func(r *http.Request, p meta.Project) (reply, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, found := h.project(r.Context())
		if !found {
			api.WriteError(w, r, errors.New("webapp: route without a project rule"))
			return
		}
		rep, err := fn(r, p)
		if err != nil {
			api.WriteError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if rep.body == nil {
			w.WriteHeader(rep.status)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(rep.status)
		if err := json.NewEncoder(w).Encode(rep.body); err != nil {
			h.d.Logger.Debug("write response", "err", err)
		}
	})
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return api.BadRequest("invalid JSON body: %v", err)
	}
	return nil
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, api.Errorf(http.StatusNotFound, "not_found", "not found")
	}
	return id, nil
}

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", api.BadRequest("name must be 1 to 200 characters")
	}
	return name, nil
}

func validDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if len(d) > 2000 {
		return "", api.BadRequest("description must be at most 2000 characters")
	}
	return d, nil
}
