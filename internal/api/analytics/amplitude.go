package analytics

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/query"
)

// ampEvent is the `e` parameter of the Dashboard API (spec §6.1).
type ampEvent struct {
	EventType string `json:"event_type"`
	Filters   []struct {
		SubpropType  string   `json:"subprop_type"`
		SubpropKey   string   `json:"subprop_key"`
		SubpropOp    string   `json:"subprop_op"`
		SubpropValue []string `json:"subprop_value"`
	} `json:"filters"`
	GroupBy []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"group_by"`
}

// ampCondition is one condition of the `s` parameter: a property
// condition (prop, op, values) or, with type "event", a "who performed"
// one (event_type, filters, op, value, time_type, time_value).
type ampCondition struct {
	Prop      string          `json:"prop"`
	Op        string          `json:"op"`
	Values    []string        `json:"values"`
	Type      string          `json:"type"`
	EventType string          `json:"event_type"`
	Filters   []ampFilter     `json:"filters"`
	Value     json.RawMessage `json:"value"`
	TimeType  string          `json:"time_type"`
	TimeValue json.RawMessage `json:"time_value"`
}

// ampFilter is one filter of a who-performed condition's event.
type ampFilter struct {
	SubpropType  string   `json:"subprop_type"`
	SubpropKey   string   `json:"subprop_key"`
	SubpropOp    string   `json:"subprop_op"`
	SubpropValue []string `json:"subprop_value"`
}

// ampFilters maps Dashboard API filters (subprop_type defaults to event).
func ampFilters(fs []ampFilter) []query.Filter {
	var out []query.Filter
	for _, f := range fs {
		typ := f.SubpropType
		if typ == "" {
			typ = "event"
		}
		out = append(out, query.Filter{PropRef: ampProp(typ, f.SubpropKey), Op: f.SubpropOp, Values: f.SubpropValue})
	}
	return out
}

// ampInt reads a whole number given as a JSON number or string ("3");
// absent is 0.
func ampInt(field string, raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, api.BadRequest("%s: want a whole number, got %s", field, raw)
	}
	return n, nil
}

// ampPerformed maps a "who performed" condition of `s` (spec §6.1):
// time_type forEachInterval, currentInterval or allTime; with time_value
// (days) and time_type absent or "rolling", the last time_value days.
func ampPerformed(i int, c ampCondition) (query.Performed, error) {
	p := query.Performed{EventType: c.EventType, Filters: ampFilters(c.Filters), Op: c.Op}
	if c.Prop != "" || len(c.Values) > 0 {
		return p, api.BadRequest("s[%d]: a \"who performed\" condition (type \"event\") takes event_type, filters, op, value, time_type and time_value, not prop or values", i)
	}
	if c.EventType == "" {
		return p, api.BadRequest("s[%d].event_type: missing", i)
	}
	n, err := ampInt(fmt.Sprintf("s[%d].value", i), c.Value)
	if err != nil {
		return p, err
	}
	p.Count = n
	if p.Op == "" && len(c.Value) > 0 {
		p.Op = ">="
	}
	days, err := ampInt(fmt.Sprintf("s[%d].time_value", i), c.TimeValue)
	if err != nil {
		return p, err
	}
	switch c.TimeType {
	case "forEachInterval":
		p.Window = query.WindowEachInterval
	case "currentInterval":
		p.Window = query.WindowCurrentInterval
	case "allTime":
		p.Window = query.WindowAllTime
	case "", "rolling":
		if days == 0 {
			if c.TimeType == "rolling" {
				return p, api.BadRequest("s[%d].time_value: time_type rolling needs the number of days", i)
			}
			p.Window = query.WindowAllTime
			break
		}
		p.Window, p.Days = query.WindowLastDays, days
	default:
		return p, api.BadRequest("s[%d].time_type: unknown %q (forEachInterval, currentInterval, allTime, or time_value days)", i, c.TimeType)
	}
	return p, nil
}

// ampProp maps a Dashboard API property (type event/user/group, user
// names with gp: for custom properties, built-in names for columns).
func ampProp(typ, key string) query.PropRef {
	switch typ {
	case "event":
		return query.PropRef{Type: query.PropEvent, Key: key}
	case "group":
		return query.PropRef{Type: query.PropGroup, Key: key}
	}
	if k, ok := strings.CutPrefix(key, "gp:"); ok {
		return query.PropRef{Type: query.PropUser, Key: k}
	}
	if query.IsBuiltin(key) {
		return query.PropRef{Type: query.PropDevice, Key: key}
	}
	return query.PropRef{Type: query.PropUser, Key: key}
}

func parseAmpEvent(param, raw string) (query.EventSpec, error) {
	var e ampEvent
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return query.EventSpec{}, api.BadRequest("%s: invalid event JSON: %v", param, err)
	}
	if e.EventType == "" {
		return query.EventSpec{}, api.BadRequest("%s.event_type: missing", param)
	}
	if len(e.GroupBy) > 2 {
		return query.EventSpec{}, api.BadRequest("%s.group_by: at most 2, got %d", param, len(e.GroupBy))
	}
	ev := query.EventSpec{EventType: e.EventType}
	for _, f := range e.Filters {
		typ := f.SubpropType
		if typ == "" {
			typ = "event"
		}
		ev.Filters = append(ev.Filters, query.Filter{PropRef: ampProp(typ, f.SubpropKey), Op: f.SubpropOp, Values: f.SubpropValue})
	}
	for _, g := range e.GroupBy {
		ev.GroupBy = append(ev.GroupBy, ampProp(g.Type, g.Value))
	}
	return ev, nil
}

func parseAmpSegment(raw string) (query.Segment, error) {
	seg := query.Segment{Users: "any"}
	if raw == "" {
		return seg, nil
	}
	var conds []ampCondition
	if err := json.Unmarshal([]byte(raw), &conds); err != nil {
		return seg, api.BadRequest("s: invalid segment JSON: %v", err)
	}
	for i, c := range conds {
		if c.Type == "event" {
			p, err := ampPerformed(i, c)
			if err != nil {
				return seg, err
			}
			seg.Performed = append(seg.Performed, p)
			continue
		}
		if c.Prop == "" {
			return seg, api.BadRequest("s[%d].prop: missing", i)
		}
		if c.Prop == "userdata_cohort" {
			return seg, api.BadRequest("s[%d].prop: cohorts are not supported yet", i)
		}
		seg.Filters = append(seg.Filters, query.Filter{PropRef: ampProp("user", c.Prop), Op: c.Op, Values: c.Values})
	}
	return seg, nil
}

// ampRange reads start and end (YYYYMMDD, inclusive).
func ampRange(q url.Values) (query.Range, error) {
	start, end := q.Get("start"), q.Get("end")
	for name, v := range map[string]string{"start": start, "end": end} {
		if v == "" {
			return query.Range{}, api.BadRequest("%s: missing (YYYYMMDD)", name)
		}
		if _, err := time.Parse("20060102", v); err != nil {
			return query.Range{}, api.BadRequest("%s: want YYYYMMDD, got %q", name, v)
		}
	}
	return query.Range{Start: start, End: end}, nil
}

// ampInterval reads i: -300000 real-time, -3600000 hourly, 1 daily, 7
// weekly, 30 monthly, and (a Crest extension) 90 quarterly.
func ampInterval(v string) (query.Interval, error) {
	switch v {
	case "", "1":
		return query.Day, nil
	case "-300000":
		return query.Realtime, nil
	case "-3600000":
		return query.Hour, nil
	case "7":
		return query.Week, nil
	case "30":
		return query.Month, nil
	case "90":
		return query.Quarter, nil
	}
	return "", api.BadRequest("i: want -300000, -3600000, 1, 7, 30 or 90, got %q", v)
}

// ampSegmentationDef translates the parameters of
// /api/2/events/segmentation into a definition.
func ampSegmentationDef(q url.Values) (*query.Segmentation, error) {
	s := &query.Segmentation{Type: query.TypeSegmentation, Version: query.SegmentationVersion}
	if q.Get("e") == "" {
		return nil, api.BadRequest("e: missing (event JSON)")
	}
	for _, name := range []string{"e", "e2"} {
		if raw := q.Get(name); raw != "" {
			ev, err := parseAmpEvent(name, raw)
			if err != nil {
				return nil, err
			}
			s.Events = append(s.Events, ev)
		}
	}
	var err error
	if s.Range, err = ampRange(q); err != nil {
		return nil, err
	}
	if s.Interval, err = ampInterval(q.Get("i")); err != nil {
		return nil, err
	}
	propMetric := false
	var propEvents []bool // formulas: the events a property function reads
	switch m := q.Get("m"); m {
	case "", "uniques":
		s.Metric = query.Uniques
	case "totals":
		s.Metric = query.Totals
	case "pct_dau":
		s.Metric = query.ActivePct
	case "average":
		s.Metric = query.Average
	case "histogram", "frequency":
		s.Metric = query.Frequency
	case "sums":
		s.Metric, propMetric = query.PropSum, true
	case "value_avg":
		s.Metric, propMetric = query.PropAvg, true
	case "formula":
		s.Metric, s.Formula = query.FormulaMetric, q.Get("formula")
		if s.Formula == "" {
			return nil, api.BadRequest("formula: missing (m=formula)")
		}
		propEvents = query.FormulaPropertyEvents(s.Formula, len(s.Events))
		propMetric = slices.Contains(propEvents, true)
	default:
		return nil, api.BadRequest("m: unknown metric %q", m)
	}
	if propMetric {
		// Property metrics read the first group-by of the event (spec §6.2);
		// in a formula, of the events a property function reads.
		for i := range s.Events {
			ev := &s.Events[i]
			if propEvents != nil && !propEvents[i] {
				continue
			}
			if len(ev.GroupBy) == 0 {
				if s.Metric == query.FormulaMetric {
					continue
				}
				return nil, api.BadRequest("e: metric %q needs a group_by naming the numeric property", q.Get("m"))
			}
			p := ev.GroupBy[0]
			ev.Property, ev.GroupBy = &p, ev.GroupBy[1:]
		}
	}
	seg, err := parseAmpSegment(q.Get("s"))
	if err != nil {
		return nil, err
	}
	switch n := q.Get("n"); n {
	case "", "any":
	case "active":
		seg.Users = "active"
	case "new":
		seg.Users = "new"
	default:
		return nil, api.BadRequest("n: want any or active, got %q", n)
	}
	s.Segments = []query.Segment{seg}
	for _, name := range []string{"g", "g2"} {
		if g := q.Get(name); g != "" {
			for i := range s.Events {
				s.Events[i].GroupBy = append(s.Events[i].GroupBy, ampProp("user", g))
			}
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, api.BadRequest("limit: want 1 to 1000, got %q", v)
		}
		s.GroupLimit = n
	}
	for name, mode := range map[string]string{"rollingWindow": "window", "rollingAverage": "average"} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, api.BadRequest("%s: want a positive integer, got %q", name, v)
			}
			if s.Rolling != nil {
				return nil, api.BadRequest("rollingWindow and rollingAverage exclude each other")
			}
			s.Rolling = &query.Rolling{Window: n, Mode: mode}
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// ampCollapsed is one element of seriesCollapsed.
type ampCollapsed struct {
	SetID string  `json:"setId"`
	Value float64 `json:"value"`
}

// ampSeriesLabel renders a series label the Dashboard API's way: the event
// index for an ungrouped series, [index, "value"] (group values joined
// with "; ") for a grouped one; frequency and distribution buckets and
// formulas are labelled by their text.
func ampSeriesLabel(s query.Series) any {
	idx := s.Event
	if idx < 0 {
		idx = s.Formula
	}
	var parts []string
	parts = append(parts, s.Group...)
	if s.Bucket != "" {
		parts = append(parts, s.Bucket)
	}
	if len(parts) == 0 {
		return idx
	}
	return []any{idx, strings.Join(parts, "; ")}
}

func (h *handlers) ampSegmentation(r *http.Request, p query.Project) (any, error) {
	s, err := ampSegmentationDef(r.URL.Query())
	if err != nil {
		return nil, err
	}
	res, err := h.d.Engine.Segmentation(r.Context(), p, s, h.d.Now())
	if err != nil {
		return nil, err
	}
	type data struct {
		Series          [][]float64      `json:"series"`
		SeriesLabels    []any            `json:"seriesLabels"`
		SeriesCollapsed [][]ampCollapsed `json:"seriesCollapsed"`
		XValues         []string         `json:"xValues"`
	}
	d := data{Series: [][]float64{}, SeriesLabels: []any{}, SeriesCollapsed: [][]ampCollapsed{}, XValues: res.XValues}
	for _, sr := range res.Series {
		d.Series = append(d.Series, sr.Values)
		d.SeriesLabels = append(d.SeriesLabels, ampSeriesLabel(sr))
		d.SeriesCollapsed = append(d.SeriesCollapsed, []ampCollapsed{{Value: sr.Collapsed}})
	}
	return map[string]any{"data": d}, nil
}

func (h *handlers) ampUsers(r *http.Request, p query.Project) (any, error) {
	q := r.URL.Query()
	s := &query.Segmentation{Type: query.TypeSegmentation, Version: query.SegmentationVersion, Metric: query.Uniques}
	ev := query.EventSpec{EventType: query.EventActive}
	switch m := q.Get("m"); m {
	case "", "active":
	case "new":
		ev.EventType = query.EventNew
	default:
		return nil, api.BadRequest("m: want active or new, got %q", m)
	}
	if g := q.Get("g"); g != "" {
		ev.GroupBy = []query.PropRef{ampProp("user", g)}
	}
	s.Events = []query.EventSpec{ev}
	var err error
	if s.Range, err = ampRange(q); err != nil {
		return nil, err
	}
	if s.Interval, err = ampInterval(q.Get("i")); err != nil {
		return nil, err
	}
	seg, err := parseAmpSegment(q.Get("s"))
	if err != nil {
		return nil, err
	}
	s.Segments = []query.Segment{seg}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	res, err := h.d.Engine.Segmentation(r.Context(), p, s, h.d.Now())
	if err != nil {
		return nil, err
	}
	type data struct {
		Series     [][]float64 `json:"series"`
		SeriesMeta []any       `json:"seriesMeta"`
		XValues    []string    `json:"xValues"`
	}
	d := data{Series: [][]float64{}, SeriesMeta: []any{}, XValues: res.XValues}
	for _, sr := range res.Series {
		d.Series = append(d.Series, sr.Values)
		if len(sr.Group) > 0 {
			d.SeriesMeta = append(d.SeriesMeta, strings.Join(sr.Group, "; "))
		} else {
			d.SeriesMeta = append(d.SeriesMeta, map[string]int{"segmentIndex": sr.Segment})
		}
	}
	return map[string]any{"data": d}, nil
}

func (h *handlers) ampEventsList(r *http.Request, p query.Project) (any, error) {
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("project time zone: %w", err)
	}
	now := h.d.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	week := day.AddDate(0, 0, -int(day.Weekday()))
	all, err := h.d.Engine.EventTypes(r.Context(), p, 0)
	if err != nil {
		return nil, err
	}
	recent, err := h.d.Engine.EventTypes(r.Context(), p, week.UnixMilli())
	if err != nil {
		return nil, err
	}
	totals := map[string]int64{}
	for _, e := range recent {
		totals[e.Name] = e.Count
	}
	type item struct {
		Value      string `json:"value"`
		Display    string `json:"display"`
		Totals     int64  `json:"totals"`
		Hidden     bool   `json:"hidden"`
		Deleted    bool   `json:"deleted"`
		NonActive  bool   `json:"non_active"`
		FlowHidden bool   `json:"flow_hidden"`
	}
	out := []item{}
	for _, e := range all {
		out = append(out, item{Value: e.Name, Display: e.Name, Totals: totals[e.Name], NonActive: !e.Active})
	}
	return map[string]any{"data": out}, nil
}

func (h *handlers) ampUserSearch(r *http.Request, p query.Project) (any, error) {
	u := r.URL.Query().Get("user")
	if u == "" {
		return nil, api.BadRequest("user: missing (Amplitude ID, device ID, user ID or user ID prefix)")
	}
	res, err := h.d.Engine.SearchUsers(r.Context(), p, u, "", 100)
	if err != nil {
		return nil, err
	}
	type match struct {
		UserID      string `json:"user_id"`
		AmplitudeID int64  `json:"amplitude_id"`
	}
	out := struct {
		Matches []match `json:"matches"`
		Type    string  `json:"type"`
	}{Matches: []match{}, Type: res.Type}
	for _, m := range res.Matches {
		out.Matches = append(out.Matches, match{m.UserID, m.AmplitudeID})
	}
	return out, nil
}

func (h *handlers) ampUserActivity(r *http.Request, p query.Project) (any, error) {
	id, err := amplitudeID(r.URL.Query().Get("user"), "user")
	if err != nil {
		return nil, err
	}
	opts, err := activityOptions(r)
	if err != nil {
		return nil, err
	}
	// The profile and the stream are independent reads: run them together.
	var (
		prof *query.Profile
		act  *query.Activity
	)
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) { prof, err = h.d.Engine.UserProfile(ctx, p, id); return err })
	g.Go(func() (err error) { act, err = h.d.Engine.UserActivity(ctx, p, id, opts); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	merged := make([]int64, len(prof.MergedIDs))
	for i, m := range prof.MergedIDs {
		merged[i] = m.AmplitudeID
	}
	ud := map[string]any{
		"user_id": nullIfEmpty(prof.UserID), "canonical_amplitude_id": prof.AmplitudeID, "merged_amplitude_ids": merged,
		"merge_times": prof.MergedIDs, "num_events": prof.NumEvents, "num_sessions": prof.NumSessions,
		"usage_time": prof.UsageTime, "first_used": day(prof.FirstSeen), "last_used": day(prof.LastSeen),
		"purchases": prof.Purchases, "revenue": prof.Revenue, "platform": prof.Platform, "os": prof.OS,
		"version": prof.Version, "device": prof.Device, "device_type": prof.DeviceType, "carrier": prof.Carrier,
		"country": prof.Country, "region": prof.Region, "city": prof.City, "dma": prof.DMA, "language": prof.Language,
		"start_version": prof.StartVersion, "device_ids": prof.DeviceIDs, "last_location": prof.LastLocation,
		"properties": prof.Properties,
	}
	return map[string]any{"userData": ud, "events": act.Events}, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// day formats UTC ms as YYYY-MM-DD (UTC), as the Dashboard API shows
// first_used and last_used.
func day(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02")
}
