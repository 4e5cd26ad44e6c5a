package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/query"
)

// analysisRoutes are the Dashboard API routes of funnels, retention and
// sessions (spec §6.2).
func (h *handlers) analysisRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/api/2/funnels", Rule: api.Basic, Handler: h.wrap(h.ampFunnels)},
		{Method: "GET", Path: "/api/2/retention", Rule: api.Basic, Handler: h.wrap(h.ampRetention)},
		{Method: "GET", Path: "/api/2/sessions/length", Rule: api.Basic, Handler: h.wrap(h.ampSessionLength)},
		{Method: "GET", Path: "/api/2/sessions/average", Rule: api.Basic, Handler: h.wrap(h.ampSessionMetric(query.SessionAverage))},
		{Method: "GET", Path: "/api/2/sessions/peruser", Rule: api.Basic, Handler: h.wrap(h.ampSessionMetric(query.SessionPerUser))},
	}
}

// analysisResponse is the answer of POST .../query for the analyses
// other than segmentation.
type analysisResponse struct {
	Definition any `json:"definition"`
	Result     any `json:"result"`
}

// analysis is a parsed definition posted to .../query, ready to run.
type analysis struct {
	// key identifies the definition as parsed (defaults filled in): two
	// posts with the same key compute the same result at the same time.
	key string
	run func(ctx context.Context, now time.Time) (any, error)
}

// prepare parses a definition of any analysis type for project p.
func (h *handlers) prepare(p query.Project, body []byte) (analysis, error) {
	var (
		def any
		run func(ctx context.Context, now time.Time) (any, error)
	)
	switch query.AnalysisType(body) {
	case query.TypeFunnel:
		f, err := query.ParseFunnel(body)
		if err != nil {
			return analysis{}, err
		}
		def, run = f, func(ctx context.Context, now time.Time) (any, error) {
			res, err := h.d.Engine.Funnel(ctx, p, f, now)
			return analysisResponse{f, res}, err
		}
	case query.TypeRetention:
		rd, err := query.ParseRetention(body)
		if err != nil {
			return analysis{}, err
		}
		def, run = rd, func(ctx context.Context, now time.Time) (any, error) {
			res, err := h.d.Engine.Retention(ctx, p, rd, now)
			return analysisResponse{rd, res}, err
		}
	case query.TypeSessions:
		sd, err := query.ParseSessions(body)
		if err != nil {
			return analysis{}, err
		}
		def, run = sd, func(ctx context.Context, now time.Time) (any, error) {
			res, err := h.d.Engine.Sessions(ctx, p, sd, now)
			return analysisResponse{sd, res}, err
		}
	default:
		s, err := query.ParseSegmentation(body)
		if err != nil {
			return analysis{}, err
		}
		def, run = s, func(ctx context.Context, now time.Time) (any, error) {
			res, err := h.d.Engine.Segmentation(ctx, p, s, now)
			if err != nil {
				return nil, err
			}
			return queryResponse{Definition: s, Result: res}, nil
		}
	}
	b, err := json.Marshal(def)
	if err != nil {
		return analysis{}, fmt.Errorf("analytics: key of a definition: %w", err)
	}
	return analysis{key: strconv.FormatInt(p.ID, 10) + " " + p.TimeZone + " " + string(b), run: run}, nil
}

// ampFunnelDef translates the parameters of /api/2/funnels.
func ampFunnelDef(q url.Values) (*query.Funnel, error) {
	f := &query.Funnel{Type: query.TypeFunnel, Version: query.FunnelVersion, WindowSeconds: 2_592_000}
	es := q["e"]
	if len(es) == 0 {
		return nil, api.BadRequest("e: missing (one event JSON per step)")
	}
	for i, raw := range es {
		ev, err := parseAmpEvent("e", raw)
		if err != nil {
			return nil, err
		}
		f.Steps = append(f.Steps, query.FunnelStep{EventType: ev.EventType, Filters: ev.Filters})
		if len(ev.GroupBy) > 0 && f.GroupBy == nil {
			f.GroupBy = &query.FunnelGroupBy{PropRef: ev.GroupBy[0], Step: i + 1}
		}
	}
	switch m := q.Get("mode"); m {
	case "", "ordered":
		f.Order = query.OrderThis
	case "unordered":
		f.Order = query.OrderAny
	case "sequential":
		f.Order = query.OrderExact
	default:
		return nil, api.BadRequest("mode: want ordered, unordered or sequential, got %q", m)
	}
	// n (spec §6.2): active users (the default) or new users. Crest also
	// takes any (every entering user).
	active := false
	switch n := q.Get("n"); n {
	case "", "active":
		active = true
	case "any":
	case "new":
		f.NewUsers = "any_day"
	default:
		return nil, api.BadRequest("n: want active or new, got %q", n)
	}
	var err error
	if f.Range, err = ampRange(q); err != nil {
		return nil, err
	}
	if f.Interval, err = ampInterval(q.Get("i")); err != nil {
		return nil, err
	}
	if v := q.Get("cs"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, api.BadRequest("cs: want seconds, got %q", v)
		}
		f.WindowSeconds = n
	}
	seg, err := parseAmpSegment(q.Get("s"))
	if err != nil {
		return nil, err
	}
	if active && f.EntryMayBeInactive() {
		// Active users: an active event in the entry's interval. Only an
		// entry on _all or an inactive type can lack one.
		seg.Performed = append(seg.Performed, query.Performed{EventType: query.EventActive, Window: query.WindowEachInterval})
	}
	if len(seg.Filters) > 0 || len(seg.Performed) > 0 {
		f.Segments = []query.Segment{seg}
	}
	if g := q.Get("g"); g != "" {
		f.GroupBy = &query.FunnelGroupBy{PropRef: ampProp("user", g), Step: 1}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, api.BadRequest("limit: want 1 to 1000, got %q", v)
		}
		f.GroupLimit = n
	}
	// optional (a Crest extension: Amplitude documents no parameter for
	// it) marks one middle step, 1-based, optional.
	if v := q.Get("optional"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n >= len(f.Steps) {
			return nil, api.BadRequest("optional: want a middle step, 2 to %d, got %q", len(f.Steps)-1, v)
		}
		f.Steps[n-1].Optional = true
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// ampSeries is the {series, xValues, formattedXValues} object of the
// funnels response.
type ampSeries struct {
	Series           any      `json:"series"`
	XValues          []string `json:"xValues"`
	FormattedXValues []string `json:"formattedXValues"`
}

// ampHistogram is a histogram of the funnels response.
type ampHistogram struct {
	Bins []ampBin `json:"bins"`
}

type ampBin struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Count int64 `json:"count"`
}

func toAmpHistograms(hs []query.Histogram) []ampHistogram {
	out := make([]ampHistogram, len(hs))
	for i, h := range hs {
		out[i].Bins = make([]ampBin, len(h.Bins))
		for j, b := range h.Bins {
			out[i].Bins[j] = ampBin(b)
		}
	}
	return out
}

func formatted(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		if t, err := time.Parse("2006-01-02", x); err == nil {
			out[i] = t.Format("Jan 02")
		} else {
			out[i] = x
		}
	}
	return out
}

func (h *handlers) ampFunnels(r *http.Request, p query.Project) (any, error) {
	f, err := ampFunnelDef(r.URL.Query())
	if err != nil {
		return nil, err
	}
	res, err := h.d.Engine.Funnel(r.Context(), p, f, h.d.Now())
	if err != nil {
		return nil, err
	}
	type meta struct {
		SegmentIndex int    `json:"segmentIndex"`
		GroupValue   string `json:"groupValue,omitempty"`
	}
	type elem struct {
		Meta   meta     `json:"meta"`
		Events []string `json:"events"`
		ampFunnel
		// WithoutOptional is the funnel without the optional step
		// (docs/funnels.md), when there is one.
		WithoutOptional *ampFunnel `json:"withoutOptional,omitempty"`
	}
	fx := formatted(res.XValues)
	out := []elem{}
	var without []string
	if o := optionalStep(f); o > 0 {
		without = append(slices.Clone(res.Steps[:o-1]), res.Steps[o:]...)
	}
	for _, s := range res.Series {
		m := meta{SegmentIndex: s.Segment}
		if len(s.Group) > 0 {
			m.GroupValue = s.Group[0]
		}
		e := elem{Meta: m, Events: res.Steps, ampFunnel: toAmpFunnel(&s, res.XValues, fx)}
		if s.Without != nil {
			w := toAmpFunnel(s.Without, res.XValues, fx)
			w.Events = without
			e.WithoutOptional = &w
		}
		out = append(out, e)
	}
	return map[string]any{"data": out}, nil
}

// optionalStep returns the 1-based optional step of f, or 0.
func optionalStep(f *query.Funnel) int {
	for i, s := range f.Steps {
		if s.Optional {
			return i + 1
		}
	}
	return 0
}

// ampFunnel is the funnel of one element of the funnels response.
type ampFunnel struct {
	// Events is set on withoutOptional only (the element has its own).
	Events                        []string       `json:"events,omitempty"`
	CumulativeRaw                 []int64        `json:"cumulativeRaw"`
	Cumulative                    []float64      `json:"cumulative"`
	StepByStep                    []float64      `json:"stepByStep"`
	AvgTransTimes                 []float64      `json:"avgTransTimes"`
	MedianTransTimes              []float64      `json:"medianTransTimes"`
	DayFunnels                    ampSeries      `json:"dayFunnels"`
	DayAvgTransTimes              ampSeries      `json:"dayAvgTransTimes"`
	DayMedianTransTimes           ampSeries      `json:"dayMedianTransTimes"`
	StepTransTimeDistribution     []ampHistogram `json:"stepTransTimeDistribution"`
	StepPrevStepCountDistribution []ampHistogram `json:"stepPrevStepCountDistribution"`
}

func toAmpFunnel(s *query.FunnelSeries, xs, fx []string) ampFunnel {
	return ampFunnel{
		CumulativeRaw: s.Counts, Cumulative: s.Cumulative, StepByStep: s.StepByStep,
		AvgTransTimes: s.AvgTransMs, MedianTransTimes: s.MedianTransMs,
		DayFunnels:                    ampSeries{s.OverTime, xs, fx},
		DayAvgTransTimes:              ampSeries{s.OverTimeAvgTransMs, xs, fx},
		DayMedianTransTimes:           ampSeries{s.OverTimeMedianTransMs, xs, fx},
		StepTransTimeDistribution:     toAmpHistograms(s.StepTimes),
		StepPrevStepCountDistribution: toAmpHistograms(s.StepFrequency),
	}
}

// ampRetentionEvent reads se or re: an event JSON, or a bare special
// name (_new, _active, _all).
func ampRetentionEvent(name, raw string) (query.RetentionEvent, error) {
	if raw == "" {
		return query.RetentionEvent{}, api.BadRequest("%s: missing", name)
	}
	if raw[0] != '{' {
		return query.RetentionEvent{EventType: raw}, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &probe); err != nil {
		return query.RetentionEvent{}, api.BadRequest("%s: invalid event JSON: %v", name, err)
	}
	ev, err := parseAmpEvent(name, raw)
	if err != nil {
		return query.RetentionEvent{}, err
	}
	return query.RetentionEvent{EventType: ev.EventType, Filters: ev.Filters}, nil
}
