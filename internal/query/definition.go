package query

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Analysis types and the versions this build understands.
const (
	TypeSegmentation        = "segmentation"
	SegmentationVersion int = 1
)

// Metric is what an event segmentation chart plots (spec §5.1).
type Metric string

// The metrics of an event segmentation chart.
const (
	Uniques          Metric = "uniques"
	Totals           Metric = "totals"
	ActivePct        Metric = "active_pct" // uniques ÷ active users, in percent
	Average          Metric = "average"    // totals ÷ uniques
	Frequency        Metric = "frequency"  // users by number of events
	PropSum          Metric = "prop_sum"
	PropAvg          Metric = "prop_avg"
	PropMin          Metric = "prop_min"
	PropMax          Metric = "prop_max"
	PropMedian       Metric = "prop_median"
	PropDistribution Metric = "prop_distribution"
	FormulaMetric    Metric = "formula"
)

func (m Metric) needsProperty() bool {
	switch m {
	case PropSum, PropAvg, PropMin, PropMax, PropMedian, PropDistribution:
		return true
	}
	return false
}

// needsUniques reports whether the metric (or its group ranking) reads
// unique users.
func (m Metric) needsUniques() bool {
	switch m {
	case Uniques, ActivePct, Average, Frequency:
		return true
	}
	return false
}

// Special event types (spec §5.0, §6.1).
const (
	EventActive = "_active" // any active event
	EventAll    = "_all"    // any event
	EventNew    = "_new"    // the events of users in the interval in which they are new
)

// inactiveTypes are the event types that are not active (event.IsActive).
var inactiveTypes = []string{"$identify", "$groupidentify", "session_start", "session_end"}

// EventSpec is one event of a chart (letter A, B, ... in formulas).
type EventSpec struct {
	// EventType is a raw event name, "ce:<name>" (same), _active, _all or _new.
	EventType string   `json:"event_type"`
	Filters   []Filter `json:"filters,omitempty"`
	// GroupBy is up to 5 properties; each combination of values is a series.
	GroupBy []PropRef `json:"group_by,omitempty"`
	// Property is the numeric property of the prop_* metrics and PROP*
	// formula functions.
	Property *PropRef `json:"property,omitempty"`
	// Label names the series; the default is the event type.
	Label string `json:"label,omitempty"`
}

// Segment is a set of users counted side by side with the others: its
// filters apply to each event (user properties as of the event), Users
// narrows to users active or new in the interval, and Performed keeps
// users by what they did (all conditions hold together).
type Segment struct {
	Name      string      `json:"name,omitempty"`
	Users     string      `json:"users,omitempty"` // any (default), active, new
	Filters   []Filter    `json:"filters,omitempty"`
	Performed []Performed `json:"performed,omitempty"`
}

// Rolling turns each point into an aggregate of the last Window
// intervals: Mode "average" is the mean of the last Window points,
// "window" the metric over the last Window intervals (e.g. 7-day active
// users computed daily). Points at the start read data before the range.
type Rolling struct {
	Window int    `json:"window"`
	Mode   string `json:"mode,omitempty"` // average (default) or window
}

// Compare adds the same chart over a past period: Period "previous" (the
// same number of intervals just before the range) or Days days earlier.
type Compare struct {
	Period string `json:"period,omitempty"`
	Days   int    `json:"days,omitempty"`
}

// Segmentation is an event segmentation chart (spec §5.1), version 1.
type Segmentation struct {
	Type     string      `json:"type"`
	Version  int         `json:"version"`
	Events   []EventSpec `json:"events"`
	Metric   Metric      `json:"metric,omitempty"` // default uniques
	Formula  string      `json:"formula,omitempty"`
	Range    Range       `json:"range"`
	Interval Interval    `json:"interval,omitempty"` // default day
	Segments []Segment   `json:"segments,omitempty"`
	// GroupLimit is the number of group-by values kept (top by the
	// whole-range value); default 100, at most 1,000.
	GroupLimit int `json:"group_limit,omitempty"`
	// FrequencyBuckets are the lower bounds of the frequency metric's
	// buckets (default 1..10, the last open-ended).
	FrequencyBuckets []int `json:"frequency_buckets,omitempty"`
	// DistributionBuckets are the lower bounds of prop_distribution's
	// buckets (min inclusive, the next bound exclusive, the last
	// open-ended); default ten equal bins from the minimum to the maximum.
	DistributionBuckets []float64 `json:"distribution_buckets,omitempty"`
	Cumulative          bool      `json:"cumulative,omitempty"`
	Rolling             *Rolling  `json:"rolling,omitempty"`
	Compare             *Compare  `json:"compare,omitempty"`
	// WeekStart is sunday (default) or monday.
	WeekStart string `json:"week_start,omitempty"`

	formulas []*formula
}

// Limits of a segmentation chart (spec §5.0).
const (
	maxEvents   = 10
	maxSegments = 10
	maxGroupBy  = 5
	maxFormulas = 10
)

// ParseSegmentation decodes and validates a segmentation definition.
// Unknown fields are errors; every error wraps ErrInvalid and names the
// field.
func ParseSegmentation(data []byte) (*Segmentation, error) {
	var head struct {
		Type    string `json:"type"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fieldErr("", "invalid JSON: %v", err)
	}
	if head.Type != TypeSegmentation {
		return nil, fieldErr("type", "unknown analysis type %q (this build knows %q)", head.Type, TypeSegmentation)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Segmentation
	if err := dec.Decode(&s); err != nil {
		return nil, fieldErr("", "invalid definition: %v", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the definition and fills in defaults. It returns a
// *FieldError naming the first bad field.
func (s *Segmentation) Validate() error {
	if s.Type == "" {
		s.Type = TypeSegmentation
	}
	if s.Type != TypeSegmentation {
		return fieldErr("type", "want %q, got %q", TypeSegmentation, s.Type)
	}
	if s.Version != SegmentationVersion {
		return fieldErr("version", "unsupported version %d (this build knows %d)", s.Version, SegmentationVersion)
	}
	if len(s.Events) == 0 {
		return fieldErr("events", "at least one event is needed")
	}
	if len(s.Events) > maxEvents {
		return fieldErr("events", "at most %d events, got %d", maxEvents, len(s.Events))
	}
	if s.Metric == "" {
		s.Metric = Uniques
	}
	switch s.Metric {
	case Uniques, Totals, ActivePct, Average, Frequency, PropSum, PropAvg, PropMin, PropMax, PropMedian, PropDistribution:
		if s.Formula != "" {
			return fieldErr("formula", "only with metric %q", FormulaMetric)
		}
	case FormulaMetric:
		if strings.TrimSpace(s.Formula) == "" {
			return fieldErr("formula", "missing")
		}
		parts := strings.Split(s.Formula, ";")
		if len(parts) > maxFormulas {
			return fieldErr("formula", "at most %d formulas, got %d", maxFormulas, len(parts))
		}
		s.formulas = s.formulas[:0]
		for _, p := range parts {
			f, err := parseFormula(p, len(s.Events))
			if err != nil {
				return prefixed("formula", err)
			}
			s.formulas = append(s.formulas, f)
		}
	default:
		return fieldErr("metric", "unknown metric %q", s.Metric)
	}
	for i := range s.Events {
		if err := s.Events[i].validate(s.Metric); err != nil {
			return prefixed(fmt.Sprintf("events[%d]", i), err)
		}
	}
	if s.Interval == "" {
		s.Interval = Day
	}
	if !s.Interval.valid() {
		return fieldErr("interval", "unknown interval %q (realtime, hour, day, week, month, quarter)", s.Interval)
	}
	if err := validateSegments(s.Segments); err != nil {
		return err
	}
	if s.GroupLimit == 0 {
		s.GroupLimit = 100
	}
	if s.GroupLimit < 0 || s.GroupLimit > 1000 {
		return fieldErr("group_limit", "must be 1 to 1000, got %d", s.GroupLimit)
	}
	for i, b := range s.FrequencyBuckets {
		if b < 1 || (i > 0 && b <= s.FrequencyBuckets[i-1]) {
			return fieldErr(fmt.Sprintf("frequency_buckets[%d]", i), "bounds must be positive and increasing")
		}
	}
	for i, b := range s.DistributionBuckets {
		if i > 0 && b <= s.DistributionBuckets[i-1] {
			return fieldErr(fmt.Sprintf("distribution_buckets[%d]", i), "bounds must be increasing")
		}
	}
	if r := s.Rolling; r != nil {
		if r.Mode == "" {
			r.Mode = "average"
		}
		if r.Mode != "average" && r.Mode != "window" {
			return fieldErr("rolling.mode", "unknown mode %q (average or window)", r.Mode)
		}
		limit := map[Interval]int{Realtime: 36, Hour: 72, Day: 90, Week: 12, Month: 12, Quarter: 4}[s.Interval]
		if r.Window < 1 || r.Window > limit {
			return fieldErr("rolling.window", "must be 1 to %d for interval %s, got %d", limit, s.Interval, r.Window)
		}
		if s.Cumulative {
			return fieldErr("rolling", "cannot be combined with cumulative")
		}
		switch s.Metric {
		case Frequency, PropDistribution:
			return fieldErr("rolling", "not available for metric %q", s.Metric)
		case FormulaMetric:
			return fieldErr("rolling", "not available for formulas (use ROLLAVG or ROLLWIN in the formula)")
		case PropMedian:
			if r.Mode == "window" {
				return fieldErr("rolling.mode", "window is not available for metric %q", s.Metric)
			}
		}
	}
	if s.Cumulative {
		switch s.Metric {
		case Uniques, Totals, PropSum:
		default:
			return fieldErr("cumulative", "only for uniques, totals and prop_sum (use CUMSUM in a formula)")
		}
	}
	if c := s.Compare; c != nil {
		if (c.Period == "") == (c.Days == 0) {
			return fieldErr("compare", "give period \"previous\" or days")
		}
		if c.Period != "" && c.Period != "previous" {
			return fieldErr("compare.period", "unknown period %q (previous)", c.Period)
		}
		if c.Days < 0 {
			return fieldErr("compare.days", "must be positive")
		}
	}
	switch s.WeekStart {
	case "", "sunday", "monday":
	default:
		return fieldErr("week_start", "unknown week start %q (sunday or monday)", s.WeekStart)
	}
	return nil
}

func (s *Segmentation) weekStart() time.Weekday {
	if s.WeekStart == "monday" {
		return time.Monday
	}
	return time.Sunday
}

func (e *EventSpec) validate(m Metric) error {
	e.EventType = strings.TrimPrefix(e.EventType, "ce:")
	if e.EventType == "" {
		return fieldErr("event_type", "missing")
	}
	for i, f := range e.Filters {
		if err := f.validate(); err != nil {
			return prefixed(fmt.Sprintf("filters[%d]", i), err)
		}
	}
	if len(e.GroupBy) > maxGroupBy {
		return fieldErr("group_by", "at most %d properties, got %d", maxGroupBy, len(e.GroupBy))
	}
	for i, g := range e.GroupBy {
		if err := g.validate(); err != nil {
			return prefixed(fmt.Sprintf("group_by[%d]", i), err)
		}
	}
	if e.Property != nil {
		if err := e.Property.validate(); err != nil {
			return prefixed("property", err)
		}
	} else if m.needsProperty() {
		return fieldErr("property", "metric %q needs a numeric property", m)
	}
	return nil
}

// validateSegments checks a chart's segments (at most maxSegments) and
// fills in their defaults.
func validateSegments(segs []Segment) error {
	if len(segs) > maxSegments {
		return fieldErr("segments", "at most %d segments, got %d", maxSegments, len(segs))
	}
	for i := range segs {
		if err := segs[i].validate(); err != nil {
			return prefixed(fmt.Sprintf("segments[%d]", i), err)
		}
	}
	return nil
}

func (g *Segment) validate() error {
	switch g.Users {
	case "":
		g.Users = "any"
	case "any", "active", "new":
	default:
		return fieldErr("users", "unknown user type %q (any, active, new)", g.Users)
	}
	for i, f := range g.Filters {
		if err := f.validate(); err != nil {
			return prefixed(fmt.Sprintf("filters[%d]", i), err)
		}
	}
	if len(g.Performed) > maxPerformed {
		return fieldErr("performed", "at most %d conditions, got %d", maxPerformed, len(g.Performed))
	}
	for i := range g.Performed {
		if err := g.Performed[i].validate(); err != nil {
			return prefixed(fmt.Sprintf("performed[%d]", i), err)
		}
	}
	return nil
}
