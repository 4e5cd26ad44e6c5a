package analytics

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/crest-analytics/crest/internal/query"
)

// TestAmpSegmentPerformed checks the translation of `s` "who performed"
// conditions (type "event") into query.Performed, and that the result
// validates as a segmentation segment.
func TestAmpSegmentPerformed(t *testing.T) {
	f := func(s string, want query.Segment) {
		t.Helper()
		got, err := parseAmpSegment(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		valid := func(seg query.Segment) query.Segment {
			def := &query.Segmentation{Version: query.SegmentationVersion, Events: []query.EventSpec{{EventType: "A"}},
				Range: query.Range{Last: 7}, Segments: []query.Segment{seg}}
			if err := def.Validate(); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			return def.Segments[0]
		}
		gj, _ := json.Marshal(valid(got))
		wj, _ := json.Marshal(valid(want))
		if string(gj) != string(wj) {
			t.Errorf("%s:\n got %s\nwant %s", s, gj, wj)
		}
	}
	perf := func(p ...query.Performed) query.Segment { return query.Segment{Users: "any", Performed: p} }
	f(`[{"type":"event","event_type":"Buy","op":">=","value":3,"time_type":"allTime"}]`,
		perf(query.Performed{EventType: "Buy", Op: ">=", Count: 3, Window: query.WindowAllTime}))
	f(`[{"type":"event","event_type":"ce:Buy","op":"=","value":"0","time_type":"forEachInterval"}]`,
		perf(query.Performed{EventType: "Buy", Op: "=", Count: 0, Window: query.WindowEachInterval}))
	f(`[{"type":"event","event_type":"Buy","op":"<","value":2,"time_type":"currentInterval"}]`,
		perf(query.Performed{EventType: "Buy", Op: "<", Count: 2, Window: query.WindowCurrentInterval}))
	f(`[{"type":"event","event_type":"Buy","op":"!=","value":1,"time_value":30}]`,
		perf(query.Performed{EventType: "Buy", Op: "!=", Count: 1, Window: query.WindowLastDays, Days: 30}))
	f(`[{"type":"event","event_type":"Buy","op":">","value":1,"time_type":"rolling","time_value":"7"}]`,
		perf(query.Performed{EventType: "Buy", Op: ">", Count: 1, Window: query.WindowLastDays, Days: 7}))
	// No op and no value: did the event at least once.
	f(`[{"type":"event","event_type":"Buy"}]`, perf(query.Performed{EventType: "Buy", Op: ">=", Count: 1, Window: query.WindowAllTime}))
	// Filters (subprop_type defaults to event, gp: is a custom user
	// property) and a property condition beside it.
	f(`[{"prop":"country","op":"is","values":["DE"]},{"type":"event","event_type":"Buy","op":"<=","value":2,"time_type":"allTime",`+
		`"filters":[{"subprop_key":"price","subprop_op":"greater","subprop_value":["9"]},{"subprop_type":"user","subprop_key":"gp:plan","subprop_op":"is","subprop_value":["pro"]}]}]`,
		query.Segment{Users: "any",
			Filters: []query.Filter{{PropRef: query.PropRef{Type: "device", Key: "country"}, Op: "is", Values: []string{"DE"}}},
			Performed: []query.Performed{{EventType: "Buy", Op: "<=", Count: 2, Window: query.WindowAllTime, Filters: []query.Filter{
				{PropRef: query.PropRef{Type: "event", Key: "price"}, Op: "greater", Values: []string{"9"}},
				{PropRef: query.PropRef{Type: "user", Key: "plan"}, Op: "is", Values: []string{"pro"}},
			}}}})

	bad := func(s, want string) {
		t.Helper()
		_, err := parseAmpSegment(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", s, err, want)
		}
	}
	bad(`[{"type":"event","op":">=","value":1}]`, "s[0].event_type: missing")
	bad(`[{"prop":"country","op":"is","values":["DE"]},{"type":"event","event_type":"Buy","value":"many"}]`, "s[1].value: want a whole number")
	bad(`[{"type":"event","event_type":"Buy","time_type":"lastWeek"}]`, `s[0].time_type: unknown "lastWeek"`)
	bad(`[{"type":"event","event_type":"Buy","time_type":"rolling"}]`, "s[0].time_value: time_type rolling needs the number of days")
	bad(`[{"type":"event","event_type":"Buy","prop":"country"}]`, "not prop or values")
	bad(`[{"prop":"userdata_cohort","op":"is","values":["c1"]}]`, "cohorts are not supported yet")
}

// TestAmpSegmentPerformedRequest sends `s` with who-performed conditions
// through the Dashboard API routes: a bad condition is a 400 naming the
// field, before any query runs.
func TestAmpSegmentPerformedRequest(t *testing.T) {
	h := testHandlers(t)
	f := func(path string, fn func(*http.Request, query.Project) (any, error), params, want string) {
		t.Helper()
		req := httptest.NewRequest("GET", path+"?"+params, nil)
		rec := httptest.NewRecorder()
		h.wrap(fn).ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s?%s: %d %s, want 400 containing %q", path, params, rec.Code, rec.Body, want)
		}
	}
	e := url.QueryEscape(`{"event_type":"Play"}`)
	s := func(v string) string { return "&s=" + url.QueryEscape(v) }
	f("/api/2/events/segmentation", h.ampSegmentation, "e="+e+"&start=20240101&end=20240107"+s(`[{"type":"event","event_type":"Buy","op":"=>","value":1}]`),
		`segments[0].performed[0].op: unknown count operator \"=\u003e\"`)
	f("/api/2/users", h.ampUsers, "start=20240101&end=20240107"+s(`[{"type":"event","event_type":"_new"}]`),
		`segments[0].performed[0].event_type: \"_new\" is not an event users perform`)
	f("/api/2/events/segmentation", h.ampSegmentation, "e="+e+"&start=20240101&end=20240107"+s(`[{"type":"event","event_type":"Buy","time_type":"forEachInterval","value":-2}]`),
		`segments[0].performed[0].count: must not be negative`)
}
