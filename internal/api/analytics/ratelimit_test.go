package analytics

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/meta"
)

func TestCost(t *testing.T) {
	f := func(path, params string, want int) {
		t.Helper()
		q, err := url.ParseQuery(params)
		if err != nil {
			t.Fatal(err)
		}
		if got := Cost(path, q); got != want {
			t.Errorf("Cost(%s?%s) = %d, want %d", path, params, got, want)
		}
	}
	week := "&start=20240101&end=20240107"
	f("/api/2/events/segmentation", `e={"event_type":"A"}`+week, 7)
	// 7 days × (1 segment + 2 conditions + 4 for g) × ((1 + 4 for the
	// event group-by) + 1 for e2).
	f("/api/2/events/segmentation", `e={"event_type":"A","group_by":[{"type":"user","value":"country"}]}&e2={"event_type":"B"}`+
		`&s=[{"prop":"country","op":"is","values":["DE"]},{"type":"event","event_type":"Buy"}]&g=country`+week, 7*7*6)
	// 30 days × 1 × (2 × 3 steps + 4 for g).
	f("/api/2/funnels", `e={"event_type":"A"}&e={"event_type":"B"}&e={"event_type":"C"}&g=country&start=20240101&end=20240130`, 300)
	f("/api/2/retention", `se={"event_type":"A"}&re={"event_type":"B"}`+week, 56)
	f("/api/2/retention", `se={"event_type":"A"}&re={"event_type":"B"}&g=country`+week, 7*5*8)
	f("/api/2/sessions/average", week[1:], 28)
	f("/api/2/users", `s=[{"prop":"country","op":"is","values":["DE"]}]`+week, 14)
	f("/api/2/events/list", "", 1)
	// Malformed parameters count as absent.
	f("/api/2/events/segmentation", "e=notjson&s=notjson&start=2024-01-01&end=20240107", 1)
	f("/api/2/events/segmentation", `e={"event_type":"A"}&start=20240107&end=20240101`, 1)
}

type projectKey struct{}

// limitFixture is a limiter over handlers that, with block, each wait
// for their own release channel.
type limitFixture struct {
	t       *testing.T
	l       *limiter
	now     time.Time
	entered chan chan struct{}
	held    []chan struct{}
	next    http.Handler
}

func newLimitFixture(t *testing.T, lim Limits, block bool) *limitFixture {
	fx := &limitFixture{t: t, now: time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC), entered: make(chan chan struct{})}
	fx.l = newLimiter(lim, func() time.Time { return fx.now }, func(ctx context.Context) (meta.Project, bool) {
		id, ok := ctx.Value(projectKey{}).(int64)
		return meta.Project{ID: id}, ok
	})
	fx.next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if block {
			release := make(chan struct{})
			fx.entered <- release
			<-release
		}
		w.WriteHeader(http.StatusOK)
	})
	return fx
}

// do sends a request for project to path through the limiter.
func (fx *limitFixture) do(project int64, path, params string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path+"?"+params, nil)
	req = req.WithContext(context.WithValue(req.Context(), projectKey{}, project))
	rec := httptest.NewRecorder()
	fx.l.wrap(path, fx.next).ServeHTTP(rec, req)
	return rec
}

// start sends a request in the background and waits until its handler
// runs. finish releases the handler and returns the response.
func (fx *limitFixture) start(project int64, path string) (finish func() *httptest.ResponseRecorder) {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- fx.do(project, path, "") }()
	select {
	case release := <-fx.entered:
		fx.held = append(fx.held, release)
		return func() *httptest.ResponseRecorder {
			close(release)
			fx.held = slices.DeleteFunc(fx.held, func(c chan struct{}) bool { return c == release })
			return <-done
		}
	case rec := <-done:
		fx.t.Fatalf("%s: answered %d %s before reaching the handler", path, rec.Code, rec.Body)
		return nil
	}
}

// releaseAll lets every held handler finish.
func (fx *limitFixture) releaseAll() {
	for _, c := range fx.held {
		close(c)
	}
	fx.held = nil
}

// want429 checks a refusal: status, Retry-After and the error envelope.
func want429(t *testing.T, rec *httptest.ResponseRecorder, retry, msg string) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d %s, want 429", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Retry-After"); got != retry {
		t.Errorf("Retry-After %q, want %q", got, retry)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	if len(env) != 1 || len(env["error"]) != 2 || env["error"]["code"] != "too_many_requests" || !strings.Contains(env["error"]["message"], msg) {
		t.Errorf("body %s, want {\"error\":{\"code\":\"too_many_requests\",\"message\":...%s...}}", rec.Body, msg)
	}
}

func TestRateLimitConcurrency(t *testing.T) {
	fx := newLimitFixture(t, Limits{Concurrent: 2, UserConcurrent: 1}, true)
	a := fx.start(1, "/api/2/events/segmentation")
	fx.start(1, "/api/2/funnels")
	// The third concurrent request of project 1 is refused, across
	// endpoints; project 2 and the user look-ups have their own counts.
	want429(t, fx.do(1, "/api/2/retention", ""), "1", "too many concurrent requests: this project already runs 2 Dashboard API requests, the limit is 2")
	fx.start(2, "/api/2/retention")
	fx.start(1, "/api/2/usersearch")
	want429(t, fx.do(1, "/api/2/useractivity", ""), "1", "too many concurrent user look-ups")
	// One finishes: the next is admitted, and the one after it refused.
	if rec := a(); rec.Code != http.StatusOK {
		t.Fatalf("released request: %d %s", rec.Code, rec.Body)
	}
	fx.start(1, "/api/2/retention")
	want429(t, fx.do(1, "/api/2/retention", ""), "1", "too many concurrent requests")
	fx.releaseAll()
}

func TestRateLimitDisabled(t *testing.T) {
	fx := newLimitFixture(t, Limits{}, true)
	for range 20 {
		fx.start(1, "/api/2/events/segmentation")
		fx.start(1, "/api/2/usersearch")
	}
	fx.releaseAll()
	// The handler blocks: a request that passes the limiter reaches it.
	if rec := fx.start(1, "/api/2/events/segmentation")(); rec.Code != http.StatusOK {
		t.Errorf("disabled limits: %d %s", rec.Code, rec.Body)
	}
}

func TestRateLimitCostBudget(t *testing.T) {
	fx := newLimitFixture(t, Limits{CostPer5Min: 100, CostPerHour: 250}, false)
	t0 := fx.now
	// A 5-day retention query costs 8 × 5 = 40.
	q := "se=%7B%7D&start=20240101&end=20240105"
	ok := func(when time.Duration) {
		t.Helper()
		fx.now = t0.Add(when)
		if rec := fx.do(1, "/api/2/retention", q); rec.Code != http.StatusOK {
			t.Fatalf("at %s: %d %s", when, rec.Code, rec.Body)
		}
	}
	ok(0)
	ok(time.Minute)
	// 120 > 100 in 5 minutes: refused until the first 40 leaves the
	// window at 5:00, 4 minutes from now.
	fx.now = t0.Add(time.Minute)
	want429(t, fx.do(1, "/api/2/retention", q), "240", "this request costs 40 (days × conditions × endpoint cost) and the project has used 80 of its 100 per 5 minutes")
	// Another project has its own budget.
	if rec := fx.do(2, "/api/2/retention", q); rec.Code != http.StatusOK {
		t.Fatalf("project 2: %d", rec.Code)
	}
	ok(5 * time.Minute)
	ok(10 * time.Minute)
	ok(11 * time.Minute)
	ok(16 * time.Minute) // the hour now holds 6 × 40 = 240
	// 280 > 250 per hour: 40 must leave, the first at 1:00.
	fx.now = t0.Add(30 * time.Minute)
	want429(t, fx.do(1, "/api/2/retention", q), "1800", "the project has used 240 of its 250 per hour")
	ok(time.Hour)
	// A request costing more than a whole budget can never pass.
	fx.now = t0.Add(3 * time.Hour)
	want429(t, fx.do(1, "/api/2/events/segmentation", `e={"event_type":"A"}&start=20240101&end=20240501`), "300",
		"request too costly: its cost is 122 (days × conditions × endpoint cost), more than the budget of 100 per 5 minutes")
}

func TestRateLimitUserLookupsPerHour(t *testing.T) {
	fx := newLimitFixture(t, Limits{UserPerHour: 3, CostPer5Min: 1}, false)
	t0 := fx.now
	for i, p := range []string{"/api/2/usersearch", "/api/2/useractivity", "/api/2/usersearch"} {
		fx.now = t0.Add(time.Duration(i) * 10 * time.Minute)
		if rec := fx.do(1, p, "user=5"); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", p, rec.Code, rec.Body)
		}
	}
	want429(t, fx.do(1, "/api/2/useractivity", "user=5"), "2400", "too many user look-ups: 3 User Activity and User Search requests in the last hour, the limit is 3")
	fx.now = t0.Add(time.Hour)
	if rec := fx.do(1, "/api/2/useractivity", "user=5"); rec.Code != http.StatusOK {
		t.Fatalf("after an hour: %d %s", rec.Code, rec.Body)
	}
}

func TestLimitRoutes(t *testing.T) {
	fx := newLimitFixture(t, Limits{CostPer5Min: 1}, false)
	rs := fx.l.limitRoutes([]api.Route{
		{Method: "GET", Path: "/api/2/sessions/average", Handler: fx.next},
		{Method: "POST", Path: "/api/v1/projects/{project}/query", Handler: fx.next},
	})
	serve := func(r api.Route) int {
		req := httptest.NewRequest(r.Method, "/x?start=20240101&end=20240102", nil)
		req = req.WithContext(context.WithValue(req.Context(), projectKey{}, int64(1)))
		rec := httptest.NewRecorder()
		r.Handler.ServeHTTP(rec, req)
		return rec.Code
	}
	if got := serve(rs[0]); got != http.StatusTooManyRequests {
		t.Errorf("/api/2 route: %d, want 429", got)
	}
	if got := serve(rs[1]); got != http.StatusOK {
		t.Errorf("/api/v1 route: %d, want 200 (not limited)", got)
	}
}
