package webapp

import (
	"encoding/json"
	"net/http"

	"github.com/crest-analytics/crest/internal/meta"
)

// dashboardPage serves the web app at a dashboard's link and, when the
// caller may view the project (api.PageProject resolved it), starts the
// dashboard's charts on the server at once (Deps.Prefetch): the app's
// queries for them then find their results computed or under way.
func (h *handlers) dashboardPage(w http.ResponseWriter, r *http.Request) {
	if p, ok := h.project(r.Context()); ok && r.Method == http.MethodGet && sameSiteNavigation(r) {
		if defs := h.dashboardDefinitions(r, p); len(defs) > 0 {
			h.d.Prefetch(p, defs)
		}
	}
	h.d.Page.ServeHTTP(w, r)
}

// sameSiteNavigation reports whether the browser says the request comes
// from this site or from the person (a typed URL, a bookmark): a page of
// another site must not make Crest compute on a member's behalf. Clients
// that send no Sec-Fetch-Site are not browsers.
func sameSiteNavigation(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// dashboardDefinitions are the definitions a dashboard's tiles run, in
// tile order: each chart's own, with the range of the link's ?range=
// when it has one (as the app applies it). Nothing when the dashboard
// is not found or the metadata cannot be read: the app reports that.
func (h *handlers) dashboardDefinitions(r *http.Request, p meta.Project) []json.RawMessage {
	id, err := pathID(r, "dashboard")
	if err != nil {
		return nil
	}
	ctx := r.Context()
	d, err := h.d.Meta.Dashboard(ctx, p.ID, id)
	if err != nil {
		return nil
	}
	charts, err := h.d.Meta.Charts(ctx, p.ID)
	if err != nil {
		return nil
	}
	byID := make(map[int64]meta.Chart, len(charts))
	for _, c := range charts {
		byID[c.ID] = c
	}
	override := rangeOverride(r.URL.Query().Get("range"))
	var defs []json.RawMessage
	for _, it := range d.Items {
		c, ok := byID[it.ChartID]
		if !ok {
			continue
		}
		def := c.Definition
		if override != nil {
			var m map[string]json.RawMessage
			if json.Unmarshal(def, &m) != nil {
				continue
			}
			m["range"] = override
			if def, err = json.Marshal(m); err != nil {
				continue
			}
		}
		defs = append(defs, def)
	}
	return defs
}

// rangeOverride is a link's ?range= when it is a JSON object, else nil
// (the app ignores other values too; the query layer validates the rest).
func rangeOverride(v string) json.RawMessage {
	if v == "" {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(v), &m) != nil {
		return nil
	}
	return json.RawMessage(v)
}
