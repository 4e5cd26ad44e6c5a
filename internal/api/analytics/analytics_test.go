package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/query"
)

// failQuerier fails the test if any SQL runs: every case here must be
// rejected before the engine queries.
type failQuerier struct{ t *testing.T }

func (f failQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	f.t.Errorf("unexpected query:\n%s", q)
	return nil, errors.New("no database")
}

func testHandlers(t *testing.T) *handlers {
	return &handlers{
		d: Deps{
			Engine: query.NewEngine(failQuerier{t}, query.DuckDB{}),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now:    func() time.Time { return time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC) },
		},
		project: func(context.Context) (meta.Project, bool) { return meta.Project{ID: 1, TimeZone: "UTC"}, true },
		flights: newFlights(),
	}
}

func TestBadRequests(t *testing.T) {
	h := testHandlers(t)
	routes := map[string]func(*http.Request, query.Project) (any, error){
		"/api/2/events/segmentation": h.ampSegmentation,
		"/api/2/users":               h.ampUsers,
		"/api/2/usersearch":          h.ampUserSearch,
		"/api/2/useractivity":        h.ampUserActivity,
		"/query":                     h.query,
	}
	f := func(method, path, params, body, wantMsg string) {
		t.Helper()
		req := httptest.NewRequest(method, path+"?"+params, strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.wrap(routes[path]).ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s?%s: status %d, want 400: %s", path, params, rec.Code, rec.Body)
			return
		}
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s: body %q: %v", path, rec.Body, err)
		}
		if !strings.Contains(env.Error.Message, wantMsg) {
			t.Errorf("%s?%s: message %q, want it to contain %q", path, params, env.Error.Message, wantMsg)
		}
	}
	seg := "/api/2/events/segmentation"
	e := url.QueryEscape(`{"event_type":"Play"}`)
	f("GET", seg, "start=20240101&end=20240107", "", "e: missing")
	f("GET", seg, "e=notjson&start=20240101&end=20240107", "", "e: invalid event JSON")
	f("GET", seg, "e="+e+"&start=2024-01-01&end=20240107", "", "start: want YYYYMMDD")
	f("GET", seg, "e="+e+"&start=20240101", "", "end: missing")
	f("GET", seg, "e="+e+"&start=20240101&end=20240107&m=bogus", "", `m: unknown metric "bogus"`)
	f("GET", seg, "e="+e+"&start=20240101&end=20240107&i=2", "", "i: want")
	f("GET", seg, "e="+e+"&start=20240101&end=20240107&m=sums", "", "needs a group_by")
	f("GET", seg, "e="+e+"&start=20240101&end=20240107&m=formula&formula=UNIQUES(C)", "", "event C does not exist")
	f("GET", seg, "e="+url.QueryEscape(`{"event_type":"Play","filters":[{"subprop_type":"event","subprop_key":"x","subprop_op":"equals","subprop_value":["1"]}]}`)+
		"&start=20240101&end=20240107", "", `events[0].filters[0].op: unknown operator "equals"`)
	f("GET", seg, "e="+e+"&start=20230101&end=20240107", "", "too long for interval day")
	f("GET", seg, "e="+e+"&start=20240101&end=20240107&s=[{\"prop\":\"country\",\"op\":\"is\"}]", "", "values")
	f("GET", seg, "e="+e+"&start=20240101&end=20240107&m=formula&formula=TOTALS(A)&rollingAverage=3", "", "rolling: not available for formulas")
	f("GET", "/api/2/users", "start=20240101&end=20240107&m=old", "", "m: want active or new")
	f("GET", "/api/2/usersearch", "", "", "user: missing")
	f("GET", "/api/2/useractivity", "user=abc", "", "user: want an Amplitude ID")
	f("GET", "/api/2/useractivity", "user=5&limit=5000", "", "limit: want 1 to 1000")
	f("GET", "/api/2/useractivity", "user=5&direction=up", "", "direction")
	f("POST", "/query", "", `{"type":"cohort","version":1}`, `type: unknown analysis type "cohort"`)
	f("POST", "/query", "", `{"type":"segmentation","version":1,"events":[{"event_type":"A","group_by":[{"type":"event"}]}],"range":{"last":7}}`,
		"events[0].group_by[0].key: missing")
	f("POST", "/query", "", `{"type":"segmentation","version":1,"events":[],"range":{"last":7}}`, "events: at least one event")
	f("POST", "/query", "", `{"type":"segmentation","version":1,"evnts":[]}`, "unknown field")
}

func TestAmpSegmentationDef(t *testing.T) {
	f := func(params string, want *query.Segmentation) {
		t.Helper()
		q, err := url.ParseQuery(params)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ampSegmentationDef(q)
		if err != nil {
			t.Fatalf("%s: %v", params, err)
		}
		if err := want.Validate(); err != nil {
			t.Fatalf("want: %v", err)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !reflect.DeepEqual(gj, wj) {
			t.Errorf("%s:\n got %s\nwant %s", params, gj, wj)
		}
	}
	base := func() *query.Segmentation {
		return &query.Segmentation{Type: "segmentation", Version: 1, Range: query.Range{Start: "20240101", End: "20240107"},
			Segments: []query.Segment{{Users: "any"}}}
	}
	w := base()
	w.Events = []query.EventSpec{{EventType: "Play"}}
	f(`e={"event_type":"Play"}&start=20240101&end=20240107`, w)

	w = base()
	w.Metric, w.Interval = query.PropSum, query.Week
	w.Events = []query.EventSpec{{EventType: "Buy", Property: &query.PropRef{Type: "event", Key: "price"},
		GroupBy: []query.PropRef{{Type: "device", Key: "country"}}}}
	f(`e={"event_type":"ce:Buy","group_by":[{"type":"event","value":"price"},{"type":"user","value":"country"}]}&m=sums&i=7&start=20240101&end=20240107`, w)

	w = base()
	w.Metric, w.Formula = query.FormulaMetric, "UNIQUES(B)/UNIQUES(A)"
	w.Events = []query.EventSpec{{EventType: "A", Filters: []query.Filter{{PropRef: query.PropRef{Type: "user", Key: "plan"}, Op: "is", Values: []string{"pro"}}},
		GroupBy: []query.PropRef{{Type: "user", Key: "plan"}}}, {EventType: "B", GroupBy: []query.PropRef{{Type: "user", Key: "plan"}}}}
	w.Segments = []query.Segment{{Users: "active", Filters: []query.Filter{{PropRef: query.PropRef{Type: "device", Key: "country"}, Op: "is", Values: []string{"DE"}}}}}
	w.GroupLimit = 5
	f(`e={"event_type":"A","filters":[{"subprop_type":"user","subprop_key":"gp:plan","subprop_op":"is","subprop_value":["pro"]}]}&e2={"event_type":"B"}`+
		`&m=formula&formula=UNIQUES(B)/UNIQUES(A)&n=active&s=[{"prop":"country","op":"is","values":["DE"]}]&g=gp:plan&limit=5&start=20240101&end=20240107`, w)
}

func TestAmpSeriesLabel(t *testing.T) {
	f := func(s query.Series, want string) {
		t.Helper()
		got, _ := json.Marshal(ampSeriesLabel(s))
		if string(got) != want {
			t.Errorf("label of %+v = %s, want %s", s, got, want)
		}
	}
	f(query.Series{Event: 1}, `1`)
	f(query.Series{Event: 0, Group: []string{"DE", "(none)"}}, `[0,"DE; (none)"]`)
	f(query.Series{Event: -1, Formula: 2}, `2`)
	f(query.Series{Event: 0, Bucket: "3+"}, `[0,"3+"]`)
}
