package query

import (
	"fmt"
	"strconv"
)

// Retention analysis type and version (spec §5.3).
const (
	TypeRetention        = "retention"
	RetentionVersion int = 1
)

// Retention modes (spec §5.3).
const (
	ModeNDay      = "n_day"     // return on interval N
	ModeUnbounded = "unbounded" // return on interval N or later
	ModeBracket   = "bracket"   // return within custom brackets of intervals
)

// Retention views.
const (
	ViewRetention     = "retention"      // the retention table (default)
	ViewUsageInterval = "usage_interval" // each user's median gap between days with the start event
)

// maxUsageColumns bounds the columns of the usage interval view; the last
// one holds every longer gap.
const maxUsageColumns = 30

// maxRetentionIntervals bounds the columns of a retention chart.
const maxRetentionIntervals = 400

// RetentionEvent is a start or return event: a raw name, _all, _active,
// or (start only) _new, with filters.
type RetentionEvent struct {
	EventType string   `json:"event_type"`
	Filters   []Filter `json:"filters,omitempty"`
	Label     string   `json:"label,omitempty"`
}

// Retention is a retention chart (spec §5.3), version 1.
type Retention struct {
	Type    string         `json:"type"`
	Version int            `json:"version"`
	Start   RetentionEvent `json:"start"`
	// Return holds one or two return events, each analysed separately.
	Return []RetentionEvent `json:"return"`
	// Mode is n_day (default), unbounded or bracket.
	Mode string `json:"mode,omitempty"`
	// Brackets are inclusive ranges of intervals [first, last] (mode bracket).
	Brackets [][2]int `json:"brackets,omitempty"`
	// Calendar counts intervals on calendar days, weeks and months of the
	// project's zone; the default counts rolling 24-hour windows from
	// each start event (on hours), 7-day and 30-day blocks (on days).
	Calendar bool `json:"calendar,omitempty"`
	// Interval is day (default), week or month.
	Interval Interval `json:"interval,omitempty"`
	// Range bounds the start events (the cohorts).
	Range Range `json:"range"`
	// Intervals is the number of intervals after the start shown
	// (interval 0 to Intervals-1; default the cohorts in the range plus one).
	Intervals int `json:"intervals,omitempty"`
	// Segments filter the start event; Users "new" keeps users new in the range.
	Segments []Segment `json:"segments,omitempty"`
	// GroupBy groups users by a property of their first start event in the range.
	GroupBy    *PropRef `json:"group_by,omitempty"`
	GroupLimit int      `json:"group_limit,omitempty"`
	WeekStart  string   `json:"week_start,omitempty"`
	// View is retention (default) or usage_interval (spec §5.3): the
	// distribution of each user's median gap, in intervals, between the
	// days on which they did the start event in the range; only users
	// with two such days or more count. That view ignores return, mode,
	// brackets, calendar and intervals.
	View string `json:"view,omitempty"`
}

// ParseRetention decodes and validates a retention definition.
func ParseRetention(data []byte) (*Retention, error) {
	var r Retention
	if err := decodeStrict(data, TypeRetention, &r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks the definition and fills in defaults.
func (r *Retention) Validate() error {
	if r.Type == "" {
		r.Type = TypeRetention
	}
	if r.Type != TypeRetention {
		return fieldErr("type", "want %q, got %q", TypeRetention, r.Type)
	}
	if r.Version != RetentionVersion {
		return fieldErr("version", "unsupported version %d (this build knows %d)", r.Version, RetentionVersion)
	}
	r.Start.EventType = trimCE(r.Start.EventType)
	if r.Start.EventType == "" {
		return fieldErr("start.event_type", "missing")
	}
	for i, f := range r.Start.Filters {
		if err := f.validate(); err != nil {
			return prefixed(fmt.Sprintf("start.filters[%d]", i), err)
		}
	}
	if r.Start.EventType == EventNew && len(r.Start.Filters) > 0 {
		return fieldErr("start.filters", "not available with %s", EventNew)
	}
	switch r.View {
	case "":
		r.View = ViewRetention
	case ViewRetention:
	case ViewUsageInterval:
		if r.Start.EventType == EventNew {
			return fieldErr("start.event_type", "%s has no usage interval (a user is new once): pick an event", EventNew)
		}
	default:
		return fieldErr("view", "unknown view %q (retention or usage_interval)", r.View)
	}
	if len(r.Return) == 0 {
		r.Return = []RetentionEvent{{EventType: EventActive}}
	}
	if len(r.Return) > 2 {
		return fieldErr("return", "at most 2 return events, got %d", len(r.Return))
	}
	for i := range r.Return {
		if err := validateEvent(&r.Return[i].EventType, r.Return[i].Filters); err != nil {
			return prefixed(fmt.Sprintf("return[%d]", i), err)
		}
	}
	switch r.Mode {
	case "":
		r.Mode = ModeNDay
	case ModeNDay, ModeUnbounded:
		if len(r.Brackets) > 0 {
			return fieldErr("brackets", "only with mode %q", ModeBracket)
		}
	case ModeBracket:
		if len(r.Brackets) == 0 || len(r.Brackets) > 100 {
			return fieldErr("brackets", "mode bracket needs 1 to 100 brackets, got %d", len(r.Brackets))
		}
		for i, b := range r.Brackets {
			if b[0] < 0 || b[1] < b[0] || (i > 0 && b[0] <= r.Brackets[i-1][1]) {
				return fieldErr(fmt.Sprintf("brackets[%d]", i), "want increasing, non-overlapping [first, last] with 0 <= first <= last")
			}
		}
	default:
		return fieldErr("mode", "unknown mode %q (n_day, unbounded or bracket)", r.Mode)
	}
	if r.Interval == "" {
		r.Interval = Day
	}
	switch r.Interval {
	case Day, Week, Month:
	default:
		return fieldErr("interval", "unknown interval %q (day, week or month)", r.Interval)
	}
	if r.Intervals < 0 || r.Intervals > maxRetentionIntervals {
		return fieldErr("intervals", "must be 1 to %d, got %d", maxRetentionIntervals, r.Intervals)
	}
	if r.Mode == ModeBracket {
		if last := r.Brackets[len(r.Brackets)-1][1]; last >= maxRetentionIntervals {
			return fieldErr("brackets", "intervals up to %d", maxRetentionIntervals-1)
		}
	}
	if err := validateSegments(r.Segments); err != nil {
		return err
	}
	if r.GroupBy != nil {
		if err := r.GroupBy.validate(); err != nil {
			return prefixed("group_by", err)
		}
	}
	if r.GroupLimit == 0 {
		r.GroupLimit = 100
	}
	if r.GroupLimit < 1 || r.GroupLimit > maxFunnelGroup {
		return fieldErr("group_limit", "must be 1 to %d, got %d", maxFunnelGroup, r.GroupLimit)
	}
	switch r.WeekStart {
	case "", "sunday", "monday":
	default:
		return fieldErr("week_start", "unknown week start %q (sunday or monday)", r.WeekStart)
	}
	return nil
}

func trimCE(s string) string {
	if len(s) > 3 && s[:3] == "ce:" {
		return s[3:]
	}
	return s
}

// RetentionResult is the result of a retention chart: one
// RetentionSeries per segment, return event and group.
type RetentionResult struct {
	// Cohorts are the start intervals (YYYY-MM-DD), oldest first.
	Cohorts []string `json:"cohorts"`
	// Columns name the retention columns: "Day 0", "Week 2", "Day 1-3".
	Columns []string          `json:"columns"`
	Series  []RetentionSeries `json:"series"`
}

// RetentionSeries is the retention table of one segment, return event
// and group.
type RetentionSeries struct {
	Label   string   `json:"label"`
	Segment int      `json:"segment"`
	Event   int      `json:"event"` // index of the return event
	Group   []string `json:"group,omitempty"`
	// Rows has one row per cohort, aligned to Cohorts.
	Rows []RetentionRow `json:"rows"`
	// Usage (view usage_interval) counts, per column, the users whose
	// median gap falls in it; Users is then the users with two days or
	// more, and Rows and Overall are empty.
	Usage []int64 `json:"usage,omitempty"`
	// Overall is the weighted average over complete cohorts: per column
	// Σ retained ÷ Σ cohort sizes of the cohorts whose cell is complete.
	Overall []RetentionCell `json:"overall"`
	// Users is the number of distinct users over all cohorts.
	Users int64 `json:"users"`
}

// RetentionRow is one cohort.
type RetentionRow struct {
	Cohort string          `json:"cohort"`
	Size   int64           `json:"size"`
	Cells  []RetentionCell `json:"cells"`
}

// RetentionCell is one retention figure: Count of OutOf users returned.
// Incomplete marks a cell whose interval has not fully elapsed (it is
// left out of the overall row).
type RetentionCell struct {
	Count      int64 `json:"count"`
	OutOf      int64 `json:"outof"`
	Incomplete bool  `json:"incomplete,omitempty"`
}

// usageLabels names the n columns of the usage interval view: "1 day",
// "2 days", …; the last one "N+ days" when capped holds longer gaps.
func (r *Retention) usageLabels(n int, capped bool) []string {
	unit := map[Interval]string{Day: "day", Week: "week", Month: "month"}[r.Interval]
	out := make([]string, n)
	for i := range out {
		l := strconv.Itoa(i+1) + " " + unit
		if i > 0 {
			l += "s"
		}
		if capped && i == n-1 {
			l = strconv.Itoa(i+1) + "+ " + unit + "s"
		}
		out[i] = l
	}
	return out
}

// columnLabels names the columns of r.
func (r *Retention) columnLabels(n int) []string {
	unit := map[Interval]string{Day: "Day", Week: "Week", Month: "Month"}[r.Interval]
	var out []string
	if r.Mode == ModeBracket {
		for _, b := range r.Brackets {
			if b[0] == b[1] {
				out = append(out, unit+" "+strconv.Itoa(b[0]))
			} else {
				out = append(out, unit+" "+strconv.Itoa(b[0])+"-"+strconv.Itoa(b[1]))
			}
		}
		return out
	}
	for i := 0; i < n; i++ {
		out = append(out, unit+" "+strconv.Itoa(i))
	}
	return out
}
