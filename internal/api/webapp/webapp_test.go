package webapp

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/meta/sqlite"
	"github.com/crest-analytics/crest/internal/query"
)

// client is a logged-in browser: a cookie jar and the CSRF token.
type client struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, http: &http.Client{Jar: jar}}
}

// do sends a JSON request and decodes the answer into out (when not nil).
func (c *client) do(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %d %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

type fixture struct {
	srv           *httptest.Server
	prefetched    chan prefetchCall // calls of Deps.Prefetch
	admin, viewer *client
	project, org  int64
	events        *sql.DB
}

// newFixture runs the API with the webapp routes over a SQLite meta store
// and an events table in SQLite (the live feed's SQL is portable), with
// an administrator and a viewer logged in.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, _, _, err := st.EnsureDefault(t.Context(), "", ""); err != nil {
		t.Fatal(err)
	}
	evdb, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { evdb.Close() })
	if _, err := evdb.Exec(`CREATE TABLE events (project_id INTEGER, seq INTEGER, event_type TEXT, event_time INTEGER,
		server_received_time INTEGER, amplitude_id INTEGER, user_id TEXT, device_id TEXT, session_id INTEGER, insert_id TEXT,
		event_properties TEXT, user_properties TEXT, groups TEXT, app_version TEXT, platform TEXT, os_name TEXT, os_version TEXT,
		device_model TEXT, country TEXT, region TEXT, city TEXT, language TEXT, library TEXT, ip TEXT, revenue REAL)`); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	prefetched := make(chan prefetchCall, 10)
	s, err := api.New(api.Deps{
		Meta: st, Logger: logger, PasswordParams: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		ExtraRoutes: append(Routes(Deps{Meta: st, Querier: evdb, Dialect: query.DuckDB{}, Logger: logger,
			Page: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "the app") }),
			Prefetch: func(p meta.Project, defs []json.RawMessage) int {
				prefetched <- prefetchCall{p.ID, defs}
				return len(defs)
			},
		}), api.Route{Path: "/", Rule: api.Public, Handler: http.NotFoundHandler()}),
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{srv: httptest.NewServer(s.Handler()), events: evdb, prefetched: prefetched}
	t.Cleanup(f.srv.Close)
	f.admin = newClient(t, f.srv.URL)
	var setup struct {
		Project struct {
			ID    int64 `json:"id"`
			OrgID int64 `json:"org_id"`
		} `json:"project"`
		CSRF string `json:"csrf_token"`
	}
	if code := f.admin.do("POST", "/api/v1/setup", map[string]string{"email": "admin@example.com", "password": "correct horse battery"}, &setup); code != 201 {
		t.Fatalf("setup: %d", code)
	}
	f.admin.csrf, f.project, f.org = setup.CSRF, setup.Project.ID, setup.Project.OrgID
	if code := f.admin.do("POST", fmt.Sprintf("/api/v1/orgs/%d/members", f.org),
		map[string]string{"email": "viewer@example.com", "password": "correct horse battery", "role": "viewer"}, nil); code != 201 {
		t.Fatalf("create viewer: %d", code)
	}
	f.viewer = newClient(t, f.srv.URL)
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	if code := f.viewer.do("POST", "/api/v1/login", map[string]string{"email": "viewer@example.com", "password": "correct horse battery"}, &login); code != 200 {
		t.Fatalf("viewer login: %d", code)
	}
	f.viewer.csrf = login.CSRF
	return f
}

func (f *fixture) path(s string) string { return fmt.Sprintf("/api/v1/projects/%d%s", f.project, s) }

func TestChartsAndDashboardsAPI(t *testing.T) {
	f := newFixture(t)
	def := map[string]any{"type": "segmentation", "version": 1, "events": []any{map[string]any{"event_type": "_active"}}}
	var chart chartJSON
	if code := f.admin.do("POST", f.path("/charts"), map[string]any{"name": " DAU ", "definition": def, "options": map[string]string{"viz": "line"}}, &chart); code != 201 {
		t.Fatalf("create chart: %d", code)
	}
	if chart.Name != "DAU" || chart.ID == 0 || !strings.Contains(string(chart.Definition), `"_active"`) || string(chart.Options) != `{"viz":"line"}` {
		t.Fatalf("chart %+v", chart)
	}
	cases := []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int
	}{
		{"viewer lists charts", f.viewer, "GET", "/charts", nil, 200},
		{"viewer reads a chart", f.viewer, "GET", fmt.Sprintf("/charts/%d", chart.ID), nil, 200},
		{"viewer cannot create", f.viewer, "POST", "/charts", map[string]any{"name": "x", "definition": def}, 403},
		{"viewer cannot update", f.viewer, "PUT", fmt.Sprintf("/charts/%d", chart.ID), map[string]any{"name": "x", "definition": def}, 403},
		{"viewer cannot delete", f.viewer, "DELETE", fmt.Sprintf("/charts/%d", chart.ID), nil, 403},
		{"viewer cannot create a dashboard", f.viewer, "POST", "/dashboards", map[string]any{"name": "x"}, 403},
		{"unknown chart", f.admin, "GET", "/charts/999", nil, 404},
		{"bad chart id", f.admin, "GET", "/charts/abc", nil, 404},
		{"no name", f.admin, "POST", "/charts", map[string]any{"name": " ", "definition": def}, 400},
		{"definition without type", f.admin, "POST", "/charts", map[string]any{"name": "x", "definition": map[string]any{}}, 400},
		{"definition not an object", f.admin, "POST", "/charts", map[string]any{"name": "x", "definition": "seg"}, 400},
		{"options not an object", f.admin, "POST", "/charts", map[string]any{"name": "x", "definition": def, "options": []int{1}}, 400},
		{"unknown field", f.admin, "POST", "/charts", map[string]any{"name": "x", "definition": def, "colour": "red"}, 400},
		{"update unknown chart", f.admin, "PUT", "/charts/999", map[string]any{"name": "x", "definition": def}, 404},
		{"dashboard with unknown chart", f.admin, "POST", "/dashboards", map[string]any{"name": "x", "items": []any{map[string]any{"chart_id": 999, "width": 6, "height": 1}}}, 400},
		{"dashboard width", f.admin, "POST", "/dashboards", map[string]any{"name": "x", "items": []any{map[string]any{"chart_id": chart.ID, "width": 13, "height": 1}}}, 400},
		{"dashboard height", f.admin, "POST", "/dashboards", map[string]any{"name": "x", "items": []any{map[string]any{"chart_id": chart.ID, "width": 6, "height": 0}}}, 400},
		{"other project", f.admin, "GET", "/../999/charts", nil, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code := c.c.do(c.method, f.path(c.path), c.body, nil); code != c.status {
				t.Fatalf("%s %s: %d, want %d", c.method, c.path, code, c.status)
			}
		})
	}

	var dash dashboardJSON
	items := []map[string]any{{"chart_id": chart.ID, "width": 6, "height": 2}, {"chart_id": chart.ID, "width": 12, "height": 1}}
	if code := f.admin.do("POST", f.path("/dashboards"), map[string]any{"name": "Growth", "items": items}, &dash); code != 201 || len(dash.Items) != 2 {
		t.Fatalf("create dashboard: %d %+v", code, dash)
	}
	// Reorder and resize.
	items[0], items[1] = items[1], items[0]
	items[1]["width"] = 4
	if code := f.admin.do("PUT", f.path(fmt.Sprintf("/dashboards/%d", dash.ID)), map[string]any{"name": "Growth", "description": "weekly", "items": items}, &dash); code != 200 {
		t.Fatalf("update dashboard: %d", code)
	}
	var got dashboardJSON
	if code := f.viewer.do("GET", f.path(fmt.Sprintf("/dashboards/%d", dash.ID)), nil, &got); code != 200 {
		t.Fatalf("viewer reads dashboard: %d", code)
	}
	want := []meta.DashboardItem{{ChartID: chart.ID, Width: 12, Height: 1}, {ChartID: chart.ID, Width: 4, Height: 2}}
	if got.Description != "weekly" || len(got.Items) != 2 || got.Items[0] != want[0] || got.Items[1] != want[1] {
		t.Fatalf("dashboard %+v", got)
	}
	var list struct {
		Items []dashboardJSON `json:"items"`
	}
	if code := f.viewer.do("GET", f.path("/dashboards"), nil, &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("list dashboards: %d %+v", code, list)
	}
	if code := f.viewer.do("PUT", f.path(fmt.Sprintf("/dashboards/%d", dash.ID)), map[string]any{"name": "x"}, nil); code != 403 {
		t.Fatalf("viewer updates dashboard: %d", code)
	}
	if code := f.admin.do("DELETE", f.path(fmt.Sprintf("/dashboards/%d", dash.ID)), nil, nil); code != 204 {
		t.Fatalf("delete dashboard: %d", code)
	}
	if code := f.admin.do("DELETE", f.path(fmt.Sprintf("/charts/%d", chart.ID)), nil, nil); code != 204 {
		t.Fatalf("delete chart: %d", code)
	}
	if code := f.admin.do("GET", f.path(fmt.Sprintf("/charts/%d", chart.ID)), nil, nil); code != 404 {
		t.Fatalf("deleted chart: %d", code)
	}
}

func TestLive(t *testing.T) {
	f := newFixture(t)
	ins := func(seq int64, typ, user, device string, amp int64) {
		t.Helper()
		if _, err := f.events.Exec(`INSERT INTO events (project_id, seq, event_type, event_time, server_received_time, amplitude_id,
			user_id, device_id, session_id, event_properties, platform) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 5, '{"plan":"pro"}', 'Web')`,
			f.project, seq, typ, 1767225600000+seq, 1767225600000+seq, amp, user, device); err != nil {
			t.Fatal(err)
		}
	}
	ins(1, "open", "alice", "d1", 11)
	ins(2, "click", "bob", "d2", 12)
	ins(3, "open", "", "d3", 13)
	ins(4, "it's", "alice", "d1", 11)
	if _, err := f.events.Exec(`INSERT INTO events (project_id, seq, event_type, event_time, server_received_time, amplitude_id, session_id) VALUES (99, 5, 'open', 0, 0, 1, -1)`); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		Items  []LiveEvent `json:"items"`
		Latest int64       `json:"latest_seq"`
	}
	cases := []struct {
		query  string
		status int
		seqs   []int64
		latest int64
	}{
		{"", 200, []int64{4, 3, 2, 1}, 4},
		{"?after=2", 200, []int64{4, 3}, 4},
		{"?after=4", 200, []int64{}, 4},
		{"?event_type=open", 200, []int64{3, 1}, 3},
		{"?event_type=it%27s", 200, []int64{4}, 4},
		{"?user=alice", 200, []int64{4, 1}, 4},
		{"?user=d3", 200, []int64{3}, 3},
		{"?user=12", 200, []int64{2}, 2},
		{"?user=alice&event_type=open", 200, []int64{1}, 1},
		{"?limit=2", 200, []int64{4, 3}, 4},
		{"?limit=0", 400, nil, 0},
		{"?limit=501", 400, nil, 0},
		{"?after=x", 400, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			var a answer
			if code := f.viewer.do("GET", f.path("/live"+c.query), nil, &a); code != c.status {
				t.Fatalf("status %d, want %d", code, c.status)
			}
			if c.status != 200 {
				return
			}
			got := []int64{}
			for _, e := range a.Items {
				got = append(got, e.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.seqs) || a.Latest != c.latest {
				t.Fatalf("seqs %v latest %d, want %v %d", got, a.Latest, c.seqs, c.latest)
			}
		})
	}
	var a answer
	f.viewer.do("GET", f.path("/live?limit=1&after=0&user=alice"), nil, &a)
	e := a.Items[0]
	if e.EventType != "it's" || *e.UserID != "alice" || *e.DeviceID != "d1" || e.AmplitudeID != 11 || e.SessionID != 5 ||
		string(e.EventProperties) != `{"plan":"pro"}` || string(e.UserProperties) != "{}" || e.Platform != "Web" ||
		e.EventTime != "2026-01-01T00:00:00.004Z" || e.InsertID != nil {
		t.Fatalf("event %+v", e)
	}
}
