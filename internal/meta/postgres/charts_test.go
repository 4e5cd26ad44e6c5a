package postgres

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

func TestChartsAndDashboards(t *testing.T) {
	s, clk := open(t)
	ctx := t.Context()
	p, _, _, err := s.EnsureDefault(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateProject(ctx, p.OrgID, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	def := json.RawMessage(`{"type":"segmentation","version":1}`)
	c, err := s.CreateChart(ctx, meta.Chart{ProjectID: p.ID, Name: "DAU", Definition: def, CreatedBy: 7})
	if err != nil || c.ID == 0 || string(c.Options) != "{}" || c.CreatedBy != 7 || !c.Created.Equal(clk.t) {
		t.Fatalf("CreateChart = %+v, %v", c, err)
	}
	// Scoped to the project: the other project cannot see or change it.
	if _, err := s.Chart(ctx, other.ID, c.ID); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("Chart in other project: %v", err)
	}
	if _, err := s.UpdateChart(ctx, meta.Chart{ProjectID: other.ID, ID: c.ID, Name: "x"}); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("UpdateChart in other project: %v", err)
	}
	if err := s.DeleteChart(ctx, other.ID, c.ID); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("DeleteChart in other project: %v", err)
	}
	clk.t = clk.t.Add(time.Minute)
	c.Name, c.Description, c.Options = "Daily users", "who came", json.RawMessage(`{"viz":"bar"}`)
	u, err := s.UpdateChart(ctx, c)
	if err != nil || u.Name != "Daily users" || u.Description != "who came" || string(u.Options) != `{"viz":"bar"}` || !u.Updated.Equal(clk.t) || !u.Created.Equal(c.Created) {
		t.Fatalf("UpdateChart = %+v, %v", u, err)
	}
	list, err := s.Charts(ctx, p.ID)
	if err != nil || len(list) != 1 || list[0].ID != c.ID || string(list[0].Definition) != string(def) {
		t.Fatalf("Charts = %+v, %v", list, err)
	}

	d, err := s.CreateDashboard(ctx, meta.Dashboard{ProjectID: p.ID, Name: "Growth"})
	if err != nil || d.ID == 0 || d.Items == nil || len(d.Items) != 0 {
		t.Fatalf("CreateDashboard = %+v, %v", d, err)
	}
	d.Items = []meta.DashboardItem{{ChartID: c.ID, Width: 6, Height: 2}, {ChartID: c.ID, Width: 12, Height: 1}}
	d2, err := s.UpdateDashboard(ctx, d)
	if err != nil || len(d2.Items) != 2 || d2.Items[1].Width != 12 {
		t.Fatalf("UpdateDashboard = %+v, %v", d2, err)
	}
	got, err := s.Dashboard(ctx, p.ID, d.ID)
	if err != nil || len(got.Items) != 2 || got.Items[0] != d.Items[0] {
		t.Fatalf("Dashboard = %+v, %v", got, err)
	}
	if l, err := s.Dashboards(ctx, other.ID); err != nil || len(l) != 0 {
		t.Fatalf("Dashboards(other) = %+v, %v", l, err)
	}
	if err := s.DeleteDashboard(ctx, p.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChart(ctx, p.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Dashboard(ctx, p.ID, d.ID); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("deleted dashboard: %v", err)
	}
	if l, err := s.Charts(ctx, p.ID); err != nil || len(l) != 0 {
		t.Fatalf("Charts after delete = %+v, %v", l, err)
	}
}
