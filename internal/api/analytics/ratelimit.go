package analytics

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/meta"
)

// Limits are the Dashboard API's (/api/2) rate limits per project (spec
// §6). A zero field disables that limit; the zero Limits disables all.
// Each Crest node keeps its own counts, in memory.
type Limits struct {
	// Concurrent is the number of requests of a project running at once
	// across the /api/2 endpoints other than User Activity and User
	// Search (Amplitude: 5).
	Concurrent int
	// UserConcurrent and UserPerHour limit User Activity and User Search
	// together: requests at once, and requests in the last hour
	// (Amplitude: 10 and 360).
	UserConcurrent int
	UserPerHour    int
	// CostPer5Min and CostPerHour bound the cost (Cost) of a project's
	// requests admitted in the last 5 minutes and the last hour
	// (Amplitude: 1,000 and 108,000).
	CostPer5Min int
	CostPerHour int
}

// DefaultLimits returns Amplitude's limits (spec §6).
func DefaultLimits() Limits {
	return Limits{Concurrent: 5, UserConcurrent: 10, UserPerHour: 360, CostPer5Min: 1000, CostPerHour: 108_000}
}

// userLookup reports whether path is one of the endpoints with their own
// limits (User Activity, User Search).
func userLookup(path string) bool {
	return path == "/api/2/useractivity" || path == "/api/2/usersearch"
}

// Cost is the cost of a Dashboard API request (spec §6): days ×
// conditions × endpoint cost, where days is the inclusive range of start
// and end (1 without them), conditions is 1 (the segment) + one per
// condition of `s` + 4 per group-by (g, g2; for funnels the group-by is
// in the endpoint cost instead), and the endpoint cost is, for
// segmentation, 1 per event (e, e2) + 4 per event group-by; for funnels
// 2 per step (e) + 4 per group-by; retention 8; sessions 4; others 1.
// Malformed parameters count as absent (the handler then answers 400).
func Cost(path string, q url.Values) int {
	days := 1
	if s, e := q.Get("start"), q.Get("end"); s != "" && e != "" {
		ts, err1 := time.Parse("20060102", s)
		te, err2 := time.Parse("20060102", e)
		if err1 == nil && err2 == nil && !te.Before(ts) {
			days = int(te.Sub(ts).Hours()/24) + 1
		}
	}
	cond := 1
	if s := q.Get("s"); s != "" {
		var conds []json.RawMessage
		if json.Unmarshal([]byte(s), &conds) == nil {
			cond += len(conds)
		}
	}
	groups := 0
	for _, g := range []string{"g", "g2"} {
		if q.Get(g) != "" {
			groups++
		}
	}
	endpoint := 1
	switch {
	case path == "/api/2/events/segmentation":
		endpoint = 0
		for _, k := range []string{"e", "e2"} {
			if v := q.Get(k); v != "" {
				var e struct {
					GroupBy []json.RawMessage `json:"group_by"`
				}
				_ = json.Unmarshal([]byte(v), &e) // malformed: counted without group-bys
				endpoint += 1 + 4*len(e.GroupBy)
			}
		}
		endpoint = max(endpoint, 1)
	case path == "/api/2/funnels":
		endpoint = max(2*len(q["e"]), 2) + 4*groups
		groups = 0
	case path == "/api/2/retention":
		endpoint = 8
	case strings.HasPrefix(path, "/api/2/sessions/"):
		endpoint = 4
	}
	cond += 4 * groups
	return days * cond * endpoint
}

// limiter enforces Limits per project. Its methods are safe for
// concurrent use.
type limiter struct {
	lim     Limits
	now     func() time.Time
	project func(context.Context) (meta.Project, bool)

	mu   sync.Mutex
	byID map[int64]*usage
}

// usage is one project's running requests and recent admissions, oldest
// first.
type usage struct {
	running, userRunning int
	spent                []spend
	userCalls            []time.Time
}

type spend struct {
	t    time.Time
	cost int
}

func newLimiter(lim Limits, now func() time.Time, project func(context.Context) (meta.Project, bool)) *limiter {
	return &limiter{lim: lim, now: now, project: project, byID: map[int64]*usage{}}
}

// rateLimited is the 429 of a refused request; Retry-After tells the
// client when to try again.
func rateLimited(w http.ResponseWriter, r *http.Request, retry time.Duration, format string, args ...any) {
	secs := int(math.Ceil(retry.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	api.WriteError(w, r, api.Errorf(http.StatusTooManyRequests, "too_many_requests", format, args...))
}

// wrap limits next, the handler of the /api/2 route path.
func (l *limiter) wrap(path string, next http.Handler) http.Handler {
	user := userLookup(path)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := l.project(r.Context())
		if !ok {
			next.ServeHTTP(w, r) // the handler reports the missing project
			return
		}
		var release func()
		if user {
			release = l.admitUser(w, r, p.ID)
		} else {
			release = l.admit(w, r, p.ID, Cost(path, r.URL.Query()))
		}
		if release == nil {
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

func (l *limiter) use(id int64) *usage {
	u := l.byID[id]
	if u == nil {
		u = &usage{}
		l.byID[id] = u
	}
	return u
}

// forget drops an idle project's record once nothing in it counts.
func (l *limiter) forget(id int64, u *usage) {
	if u.running == 0 && u.userRunning == 0 && len(u.spent) == 0 && len(u.userCalls) == 0 {
		delete(l.byID, id)
	}
}

// admit checks the concurrency and cost limits for a request of cost
// for project id, and charges it. It returns the release to call when
// the request ends, or nil after answering 429.
func (l *limiter) admit(w http.ResponseWriter, r *http.Request, id int64, cost int) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	u := l.use(id)
	u.spent = pruneSpent(u.spent, now.Add(-time.Hour))
	if l.lim.Concurrent > 0 && u.running >= l.lim.Concurrent {
		rateLimited(w, r, time.Second, "too many concurrent requests: this project already runs %d Dashboard API requests, the limit is %d (spec: 5 concurrent requests per project); retry when one has finished",
			u.running, l.lim.Concurrent)
		return nil
	}
	for _, b := range []struct {
		limit  int
		window time.Duration
		name   string
	}{{l.lim.CostPer5Min, 5 * time.Minute, "5 minutes"}, {l.lim.CostPerHour, time.Hour, "hour"}} {
		if b.limit <= 0 {
			continue
		}
		if cost > b.limit {
			rateLimited(w, r, b.window, "request too costly: its cost is %d (days × conditions × endpoint cost), more than the budget of %d per %s; shorten the range or use fewer events, conditions or group-bys",
				cost, b.limit, b.name)
			return nil
		}
		used, retry := windowUse(u.spent, now, b.window, b.limit-cost)
		if used+cost > b.limit {
			rateLimited(w, r, retry, "cost budget exceeded: this request costs %d (days × conditions × endpoint cost) and the project has used %d of its %d per %s; retry in %s",
				cost, used, b.limit, b.name, retry.Round(time.Second))
			return nil
		}
	}
	if l.lim.CostPer5Min > 0 || l.lim.CostPerHour > 0 {
		u.spent = append(u.spent, spend{now, cost})
	}
	u.running++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		u.running--
		l.forget(id, u)
	}
}

// admitUser checks the limits of User Activity and User Search.
func (l *limiter) admitUser(w http.ResponseWriter, r *http.Request, id int64) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	u := l.use(id)
	i := 0
	for i < len(u.userCalls) && !u.userCalls[i].After(now.Add(-time.Hour)) {
		i++
	}
	u.userCalls = u.userCalls[i:]
	if l.lim.UserConcurrent > 0 && u.userRunning >= l.lim.UserConcurrent {
		rateLimited(w, r, time.Second, "too many concurrent user look-ups: this project already runs %d User Activity and User Search requests, the limit is %d; retry when one has finished",
			u.userRunning, l.lim.UserConcurrent)
		return nil
	}
	if l.lim.UserPerHour > 0 && len(u.userCalls) >= l.lim.UserPerHour {
		retry := u.userCalls[len(u.userCalls)-l.lim.UserPerHour].Add(time.Hour).Sub(now)
		rateLimited(w, r, retry, "too many user look-ups: %d User Activity and User Search requests in the last hour, the limit is %d; retry in %s",
			len(u.userCalls), l.lim.UserPerHour, retry.Round(time.Second))
		return nil
	}
	if l.lim.UserPerHour > 0 {
		u.userCalls = append(u.userCalls, now)
	}
	u.userRunning++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		u.userRunning--
		l.forget(id, u)
	}
}

// pruneSpent drops the admissions at or before since.
func pruneSpent(s []spend, since time.Time) []spend {
	i := 0
	for i < len(s) && !s[i].t.After(since) {
		i++
	}
	return s[i:]
}

// windowUse returns the cost admitted in the window before now and how
// long until at most room of it remains in the window.
func windowUse(s []spend, now time.Time, window time.Duration, room int) (int, time.Duration) {
	since := now.Add(-window)
	used := 0
	first := len(s)
	for i := len(s) - 1; i >= 0 && s[i].t.After(since); i-- {
		used += s[i].cost
		first = i
	}
	left := used
	for i := first; i < len(s) && left > room; i++ {
		left -= s[i].cost
		if left <= room {
			return used, s[i].t.Add(window).Sub(now)
		}
	}
	return used, 0
}

// limitRoutes puts the limiter in front of every /api/2 route of rs.
func (l *limiter) limitRoutes(rs []api.Route) []api.Route {
	for i, r := range rs {
		if strings.HasPrefix(r.Path, "/api/2/") {
			rs[i].Handler = l.wrap(r.Path, r.Handler)
		}
	}
	return rs
}
