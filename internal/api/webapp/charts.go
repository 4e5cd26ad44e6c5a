package webapp

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/meta"
)

// chartJSON is a saved chart on the wire.
type chartJSON struct {
	ID          int64           `json:"id"`
	ProjectID   int64           `json:"project_id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Definition  json.RawMessage `json:"definition"`
	Options     json.RawMessage `json:"options"`
	CreatedBy   int64           `json:"created_by"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
}

func toChart(c meta.Chart) chartJSON {
	return chartJSON{ID: c.ID, ProjectID: c.ProjectID, Name: c.Name, Description: c.Description,
		Definition: c.Definition, Options: c.Options, CreatedBy: c.CreatedBy, Created: c.Created, Updated: c.Updated}
}

// chartInput is the body of POST and PUT.
type chartInput struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Definition  json.RawMessage `json:"definition"`
	Options     json.RawMessage `json:"options"`
}

// validate checks the input: the definition must be an object with an
// analysis type (the query API validates the rest when it runs), the
// options an object when given.
func (in *chartInput) validate() (meta.Chart, error) {
	var c meta.Chart
	var err error
	if c.Name, err = validName(in.Name); err != nil {
		return c, err
	}
	if c.Description, err = validDescription(in.Description); err != nil {
		return c, err
	}
	var head struct {
		Type string `json:"type"`
	}
	if len(in.Definition) == 0 || json.Unmarshal(in.Definition, &head) != nil || head.Type == "" {
		return c, api.BadRequest("definition must be a JSON object with an analysis type")
	}
	if len(in.Options) > 0 {
		var m map[string]any
		if json.Unmarshal(in.Options, &m) != nil || m == nil {
			return c, api.BadRequest("options must be a JSON object")
		}
	}
	c.Definition, c.Options = in.Definition, in.Options
	return c, nil
}

func (h *handlers) listCharts(r *http.Request, p meta.Project) (reply, error) {
	cs, err := h.d.Meta.Charts(r.Context(), p.ID)
	if err != nil {
		return reply{}, err
	}
	out := make([]chartJSON, len(cs))
	for i, c := range cs {
		out[i] = toChart(c)
	}
	return ok(map[string]any{"items": out}), nil
}

func (h *handlers) createChart(r *http.Request, p meta.Project) (reply, error) {
	var in chartInput
	if err := decode(r, &in); err != nil {
		return reply{}, err
	}
	c, err := in.validate()
	if err != nil {
		return reply{}, err
	}
	c.ProjectID = p.ID
	if a, found := h.account(r.Context()); found {
		c.CreatedBy = a.ID
	}
	c, err = h.d.Meta.CreateChart(r.Context(), c)
	if err != nil {
		return reply{}, err
	}
	return reply{http.StatusCreated, toChart(c)}, nil
}

func (h *handlers) getChart(r *http.Request, p meta.Project) (reply, error) {
	id, err := pathID(r, "chart")
	if err != nil {
		return reply{}, err
	}
	c, err := h.d.Meta.Chart(r.Context(), p.ID, id)
	if err != nil {
		return reply{}, err
	}
	return ok(toChart(c)), nil
}

func (h *handlers) updateChart(r *http.Request, p meta.Project) (reply, error) {
	id, err := pathID(r, "chart")
	if err != nil {
		return reply{}, err
	}
	var in chartInput
	if err := decode(r, &in); err != nil {
		return reply{}, err
	}
	c, err := in.validate()
	if err != nil {
		return reply{}, err
	}
	c.ProjectID, c.ID = p.ID, id
	c, err = h.d.Meta.UpdateChart(r.Context(), c)
	if err != nil {
		return reply{}, err
	}
	return ok(toChart(c)), nil
}

func (h *handlers) deleteChart(r *http.Request, p meta.Project) (reply, error) {
	id, err := pathID(r, "chart")
	if err != nil {
		return reply{}, err
	}
	if err := h.d.Meta.DeleteChart(r.Context(), p.ID, id); err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusNoContent}, nil
}

// dashboardJSON is a dashboard on the wire.
type dashboardJSON struct {
	ID          int64                `json:"id"`
	ProjectID   int64                `json:"project_id"`
	Name        string               `json:"name"`
	Description string               `json:"description"`
	Items       []meta.DashboardItem `json:"items"`
	CreatedBy   int64                `json:"created_by"`
	Created     time.Time            `json:"created"`
	Updated     time.Time            `json:"updated"`
}

func toDashboard(d meta.Dashboard) dashboardJSON {
	items := d.Items
	if items == nil {
		items = []meta.DashboardItem{}
	}
	return dashboardJSON{ID: d.ID, ProjectID: d.ProjectID, Name: d.Name, Description: d.Description,
		Items: items, CreatedBy: d.CreatedBy, Created: d.Created, Updated: d.Updated}
}

type dashboardInput struct {
	Name        string               `json:"name"`
	Description string               `json:"description"`
	Items       []meta.DashboardItem `json:"items"`
}

// maxItems bounds the charts of one dashboard.
const maxItems = 50

// validate checks the input and that every chart is one of project p's.
func (h *handlers) validateDashboard(r *http.Request, p meta.Project, in dashboardInput) (meta.Dashboard, error) {
	var d meta.Dashboard
	var err error
	if d.Name, err = validName(in.Name); err != nil {
		return d, err
	}
	if d.Description, err = validDescription(in.Description); err != nil {
		return d, err
	}
	if len(in.Items) > maxItems {
		return d, api.BadRequest("at most %d charts on a dashboard, got %d", maxItems, len(in.Items))
	}
	for i, it := range in.Items {
		if it.Width < 1 || it.Width > 12 {
			return d, api.BadRequest("items[%d].width must be 1 to 12, got %d", i, it.Width)
		}
		if it.Height < 1 || it.Height > 4 {
			return d, api.BadRequest("items[%d].height must be 1 to 4, got %d", i, it.Height)
		}
		if _, err := h.d.Meta.Chart(r.Context(), p.ID, it.ChartID); err != nil {
			if isNotFound(err) {
				return d, api.BadRequest("items[%d].chart_id: no chart %d in this project", i, it.ChartID)
			}
			return d, err
		}
	}
	d.ProjectID, d.Items = p.ID, in.Items
	return d, nil
}

func (h *handlers) listDashboards(r *http.Request, p meta.Project) (reply, error) {
	ds, err := h.d.Meta.Dashboards(r.Context(), p.ID)
	if err != nil {
		return reply{}, err
	}
	out := make([]dashboardJSON, len(ds))
	for i, d := range ds {
		out[i] = toDashboard(d)
	}
	return ok(map[string]any{"items": out}), nil
}

func (h *handlers) createDashboard(r *http.Request, p meta.Project) (reply, error) {
	var in dashboardInput
	if err := decode(r, &in); err != nil {
		return reply{}, err
	}
	d, err := h.validateDashboard(r, p, in)
	if err != nil {
		return reply{}, err
	}
	if a, found := h.account(r.Context()); found {
		d.CreatedBy = a.ID
	}
	d, err = h.d.Meta.CreateDashboard(r.Context(), d)
	if err != nil {
		return reply{}, err
	}
	return reply{http.StatusCreated, toDashboard(d)}, nil
}

func (h *handlers) getDashboard(r *http.Request, p meta.Project) (reply, error) {
	id, err := pathID(r, "dashboard")
	if err != nil {
		return reply{}, err
	}
	d, err := h.d.Meta.Dashboard(r.Context(), p.ID, id)
	if err != nil {
		return reply{}, err
	}
	return ok(toDashboard(d)), nil
}

func (h *handlers) updateDashboard(r *http.Request, p meta.Project) (reply, error) {
	id, err := pathID(r, "dashboard")
	if err != nil {
		return reply{}, err
	}
	var in dashboardInput
	if err := decode(r, &in); err != nil {
		return reply{}, err
	}
	d, err := h.validateDashboard(r, p, in)
	if err != nil {
		return reply{}, err
	}
	d.ID = id
	d, err = h.d.Meta.UpdateDashboard(r.Context(), d)
	if err != nil {
		return reply{}, err
	}
	return ok(toDashboard(d)), nil
}

func (h *handlers) deleteDashboard(r *http.Request, p meta.Project) (reply, error) {
	id, err := pathID(r, "dashboard")
	if err != nil {
		return reply{}, err
	}
	if err := h.d.Meta.DeleteDashboard(r.Context(), p.ID, id); err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusNoContent}, nil
}
