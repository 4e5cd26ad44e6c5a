package analytics

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPointUsersBadRequests checks that bad bodies of POST
// .../query/users are 400s naming the field, before any SQL runs.
func TestPointUsersBadRequests(t *testing.T) {
	h := testHandlers(t)
	def := `{"type":"segmentation","version":1,"events":[{"event_type":"Play"}],"range":{"start":"2024-01-01","end":"2024-01-02"}}`
	fun := `{"type":"funnel","version":1,"steps":[{"event_type":"A"},{"event_type":"B"}],"range":{"start":"2024-01-01","end":"2024-01-02"}}`
	ret := `{"type":"retention","version":1,"start":{"event_type":"A"},"intervals":4,"range":{"start":"2024-01-01","end":"2024-01-02"}}`
	cases := []struct{ body, want string }{
		{`not json`, "invalid body"},
		{`{"point":{"event":0,"x":"2024-01-01"}}`, "definition: missing"},
		{`{"definition":` + def + `}`, "point: missing"},
		{`{"definition":` + def + `,"point":{"event":0,"x":"2024-01-01"},"bogus":1}`, "unknown field"},
		{`{"definition":{"type":"segmentation","version":1,"events":[]},"point":{"event":0,"x":"2024-01-01"}}`, "definition.events: at least one event"},
		{`{"definition":` + def + `,"point":{"event":2,"x":"2024-01-01"}}`, "point.event: no event 2"},
		{`{"definition":` + def + `,"point":{"event":0,"x":"2024-02-01"}}`, `point.x: "2024-02-01" is not an x value`},
		{`{"definition":` + def + `,"point":{"event":0,"x":"2024-01-01","group":["Web"]}}`, "point.group: want 0 group values"},
		{`{"definition":` + def + `,"point":{"event":0,"x":"2024-01-01","segment":1}}`, "point.segment: no segment 1"},
		{`{"definition":` + def + `,"point":{"event":0,"x":"2024-01-01"},"limit":1001}`, "limit: want 1 to 1000"},
		{`{"definition":` + def + `,"point":{"event":0,"x":"2024-01-01"},"offset":-1}`, "offset: must not be negative"},
		{`{"definition":` + fun + `,"point":{"step":2}}`, "point.step: want 0 to 1, got 2"},
		{`{"definition":` + fun + `,"point":{"event":0}}`, `point: json: unknown field "event"`},
		{`{"definition":` + fun + `,"point":{"step":1,"outcome":"dropped"}}`, "point.outcome: no step after the last one"},
		{`{"definition":` + fun + `,"point":{"step":0,"without":true}}`, "point.without: the funnel has no optional step"},
		{`{"definition":` + fun + `,"point":{"step":0,"x":"2024-02-01"}}`, `point.x: "2024-02-01" is not an x value`},
		{`{"definition":` + fun + `,"point":{"step":0,"group":["a"]}}`, "point.group: want 0 group values"},
		{`{"definition":{"type":"funnel","version":1,"steps":[]},"point":{"step":0}}`, "definition.steps: at least one step"},
		{`{"definition":` + ret + `,"point":{"column":9}}`, "point.column: want 0 to 3, got 9"},
		{`{"definition":` + ret + `,"point":{"cohort":"2023-12-31","column":0}}`, `point.cohort: "2023-12-31" is not a cohort`},
		{`{"definition":` + ret + `,"point":{"event":1,"column":0}}`, "point.event: no return event 1"},
		{`{"definition":` + ret + `,"point":{"step":0}}`, `point: json: unknown field "step"`},
	}
	for _, c := range cases {
		req := httptest.NewRequest("POST", "/api/v1/projects/1/query/users", strings.NewReader(c.body))
		rec := httptest.NewRecorder()
		h.wrap(h.pointUsers).ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", c.body, rec.Code, rec.Body)
			continue
		}
		var env struct {
			Error struct{ Message string } `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s: body %q: %v", c.body, rec.Body, err)
		}
		if !strings.Contains(env.Error.Message, c.want) {
			t.Errorf("%s: message %q, want it to contain %q", c.body, env.Error.Message, c.want)
		}
	}
}
