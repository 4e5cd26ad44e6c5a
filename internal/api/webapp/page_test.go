package webapp

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
)

type prefetchCall struct {
	project int64
	defs    []json.RawMessage
}

// page GETs a page as c (cookies only, like a browser navigating) with
// the given Sec-Fetch-Site, and returns its status and body.
func (c *client) page(path, site string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDashboardPagePrefetch: opening a dashboard's link starts its
// charts (in tile order, with the link's range override) for those who
// may view the project, from this site or typed in; everyone gets the
// page, and nobody else starts anything.
func TestDashboardPagePrefetch(t *testing.T) {
	f := newFixture(t)
	seg := map[string]any{"type": "segmentation", "version": 1, "events": []any{map[string]any{"event_type": "_active"}}, "range": map[string]any{"last": 30, "unit": "day"}}
	fun := map[string]any{"type": "funnel", "version": 1, "steps": []any{map[string]any{"event_type": "A"}, map[string]any{"event_type": "B"}}}
	var c1, c2 chartJSON
	if code := f.admin.do("POST", f.path("/charts"), map[string]any{"name": "DAU", "definition": seg}, &c1); code != 201 {
		t.Fatalf("chart: %d", code)
	}
	if code := f.admin.do("POST", f.path("/charts"), map[string]any{"name": "Funnel", "definition": fun}, &c2); code != 201 {
		t.Fatalf("chart: %d", code)
	}
	var dash dashboardJSON
	items := []map[string]any{{"chart_id": c2.ID, "width": 6, "height": 2}, {"chart_id": c1.ID, "width": 6, "height": 2}}
	if code := f.admin.do("POST", f.path("/dashboards"), map[string]any{"name": "Growth", "items": items}, &dash); code != 201 {
		t.Fatalf("dashboard: %d", code)
	}
	page := fmt.Sprintf("/projects/%d/dashboards/%d", f.project, dash.ID)
	types := func(defs []json.RawMessage) (out []string) {
		for _, d := range defs {
			var v struct {
				Type  string          `json:"type"`
				Range json.RawMessage `json:"range"`
			}
			if err := json.Unmarshal(d, &v); err != nil {
				t.Fatalf("definition %s: %v", d, err)
			}
			out = append(out, v.Type+" "+string(v.Range))
		}
		return out
	}
	expect := func(name string, c *client, path, site string, want []string) {
		t.Helper()
		code, body := c.page(path, site)
		if code != 200 || body != "the app" {
			t.Fatalf("%s: %d %q, want the page", name, code, body)
		}
		select {
		case call := <-f.prefetched:
			if want == nil {
				t.Fatalf("%s: prefetched %v", name, types(call.defs))
			}
			if got := types(call.defs); call.project != f.project || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: prefetched project %d %v, want %d %v", name, call.project, got, f.project, want)
			}
		default:
			if want != nil {
				t.Fatalf("%s: nothing prefetched", name)
			}
		}
	}
	expect("viewer", f.viewer, page, "none", []string{"funnel ", `segmentation {"last":30,"unit":"day"}`})
	expect("admin from the app", f.admin, page, "same-origin", []string{"funnel ", `segmentation {"last":30,"unit":"day"}`})
	expect("no Sec-Fetch-Site", f.admin, page, "", []string{"funnel ", `segmentation {"last":30,"unit":"day"}`})
	override := `{"last":7,"unit":"day"}`
	expect("range override", f.viewer, page+"?range="+url.QueryEscape(override), "none", []string{"funnel " + override, "segmentation " + override})
	expect("range override not an object", f.viewer, page+"?range=7", "none", []string{"funnel ", `segmentation {"last":30,"unit":"day"}`})
	expect("from another site", f.viewer, page, "cross-site", nil)
	expect("signed out", newClient(t, f.srv.URL), page, "none", nil)
	expect("unknown dashboard", f.viewer, fmt.Sprintf("/projects/%d/dashboards/999", f.project), "none", nil)
	expect("unknown project", f.admin, fmt.Sprintf("/projects/999/dashboards/%d", dash.ID), "none", nil)
	// A deleted chart's tile is left out.
	if code := f.admin.do("DELETE", f.path(fmt.Sprintf("/charts/%d", c2.ID)), nil, nil); code != 204 {
		t.Fatalf("delete chart: %d", code)
	}
	expect("deleted chart", f.viewer, page, "none", []string{`segmentation {"last":30,"unit":"day"}`})
}
