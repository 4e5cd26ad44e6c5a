package query

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Funnel analysis type and version (spec §5.2).
const (
	TypeFunnel        = "funnel"
	FunnelVersion int = 1
)

// Funnel orders (spec §5.2).
const (
	OrderThis  = "this"  // steps in order, other events may come between
	OrderAny   = "any"   // all steps within the window, in any order
	OrderExact = "exact" // steps in order, no other event between
)

// Funnel limits. Steps and exclusions share the 63 bits of a step mask
// (funnel_kernel.go); the spec sets no cap on steps.
const (
	maxFunnelBits  = 63
	maxExclusions  = 10
	minWindowSec   = 1
	maxWindowSec   = 366 * 86400
	defaultWindow  = 86400 // the UI default (the Dashboard API's is 30 days)
	maxFunnelGroup = 1000
)

// FunnelStep is one step of a funnel: an event type (a raw name, _active
// or _all) with its filters.
type FunnelStep struct {
	EventType string   `json:"event_type"`
	Filters   []Filter `json:"filters,omitempty"`
	Label     string   `json:"label,omitempty"`
	// Optional marks the one optional step (not the first or last): the
	// result then also holds, per series, the funnel without it
	// (FunnelSeries.Without, docs/funnels.md).
	Optional bool `json:"optional,omitempty"`
}

// Exclusion cuts sequences at an exclusion event done between step From
// and step To (1-based; both 0 means between all steps): the events of
// steps From+1..To must come before the first exclusion event after the
// step-From event, so a user who did the event counts through the last
// step reached before it. Exclusion ranges may be equal or disjoint.
type Exclusion struct {
	EventType string   `json:"event_type"`
	Filters   []Filter `json:"filters,omitempty"`
	From      int      `json:"from_step,omitempty"`
	To        int      `json:"to_step,omitempty"`
}

// FunnelGroupBy breaks a funnel down by a property of the event of step
// Step (1-based, default 1: the entry event). Users who did not reach a
// later Step are in the "(did not reach step N)" group.
type FunnelGroupBy struct {
	PropRef
	Step int `json:"step,omitempty"`
}

// StepPair names two steps (1-based).
type StepPair struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Funnel is a funnel chart (spec §5.2), version 1.
type Funnel struct {
	Type    string       `json:"type"`
	Version int          `json:"version"`
	Steps   []FunnelStep `json:"steps"`
	// Order is this (default), any or exact.
	Order string `json:"order,omitempty"`
	// WindowSeconds is the conversion window: the most time from the
	// entry event to the last step, 1 s to 366 days (default 1 day). Any
	// order rounds it down to whole days (at least one).
	WindowSeconds int64 `json:"window_seconds,omitempty"`
	// Range bounds the entry events; later steps may fall up to the
	// window after its end.
	Range Range `json:"range"`
	// Interval buckets entries for conversion over time (default day).
	Interval Interval `json:"interval,omitempty"`
	// Segments filter the entry event (user properties as of it); Users
	// "new" keeps users new in the range.
	Segments []Segment `json:"segments,omitempty"`
	// NewUsers narrows to new users: any_day (new in the range, entering
	// any time) or first_day (entering on the day they are new).
	NewUsers   string      `json:"new_users,omitempty"`
	Exclusions []Exclusion `json:"exclusions,omitempty"`
	// Hold holds properties constant: the funnel counts (user, values)
	// pairs over events that carry all of them; holding the built-in
	// session_id gives per-session funnels.
	Hold    []PropRef      `json:"hold,omitempty"`
	GroupBy *FunnelGroupBy `json:"group_by,omitempty"`
	// Counting is uniques (default: per user the longest, then earliest
	// sequence) or totals (every attempt).
	Counting string `json:"counting,omitempty"`
	// Resolution is second (default: events of one second in step order,
	// identical ones counted once) or millisecond.
	Resolution string `json:"resolution,omitempty"`
	// Convert chooses the steps of time to convert (default first to last).
	Convert *StepPair `json:"convert,omitempty"`
	// GroupLimit keeps the largest groups (default 100, at most 1,000).
	GroupLimit int    `json:"group_limit,omitempty"`
	WeekStart  string `json:"week_start,omitempty"`
}

// ParseFunnel decodes and validates a funnel definition; errors wrap
// ErrInvalid and name the field.
func ParseFunnel(data []byte) (*Funnel, error) {
	var f Funnel
	if err := decodeStrict(data, TypeFunnel, &f); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// decodeStrict decodes a definition of analysis type typ into v,
// rejecting unknown fields.
func decodeStrict(data []byte, typ string, v any) error {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fieldErr("", "invalid JSON: %v", err)
	}
	if head.Type != typ {
		return fieldErr("type", "want %q, got %q", typ, head.Type)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fieldErr("", "invalid definition: %v", err)
	}
	return nil
}

// AnalysisType returns the "type" member of a JSON definition.
func AnalysisType(data []byte) string {
	var head struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(data, &head)
	return head.Type
}

// Validate checks the definition and fills in defaults.
func (f *Funnel) Validate() error {
	if f.Type == "" {
		f.Type = TypeFunnel
	}
	if f.Type != TypeFunnel {
		return fieldErr("type", "want %q, got %q", TypeFunnel, f.Type)
	}
	if f.Version != FunnelVersion {
		return fieldErr("version", "unsupported version %d (this build knows %d)", f.Version, FunnelVersion)
	}
	n := len(f.Steps)
	if n == 0 {
		return fieldErr("steps", "at least one step is needed")
	}
	if n+len(f.Exclusions) > maxFunnelBits {
		return fieldErr("steps", "steps and exclusions together at most %d, got %d", maxFunnelBits, n+len(f.Exclusions))
	}
	for i := range f.Steps {
		if err := validateEvent(&f.Steps[i].EventType, f.Steps[i].Filters); err != nil {
			return prefixed(fmt.Sprintf("steps[%d]", i), err)
		}
	}
	if err := f.validateOptional(); err != nil {
		return err
	}
	switch f.Order {
	case "":
		f.Order = OrderThis
	case OrderThis, OrderAny, OrderExact:
	default:
		return fieldErr("order", "unknown order %q (this, any or exact)", f.Order)
	}
	if f.WindowSeconds == 0 {
		f.WindowSeconds = defaultWindow
	}
	if f.WindowSeconds < minWindowSec || f.WindowSeconds > maxWindowSec {
		return fieldErr("window_seconds", "must be 1 to %d (366 days), got %d", maxWindowSec, f.WindowSeconds)
	}
	if f.Interval == "" {
		f.Interval = Day
	}
	switch f.Interval {
	case Hour, Day, Week, Month:
	default:
		return fieldErr("interval", "unknown interval %q (hour, day, week or month)", f.Interval)
	}
	if err := validateSegments(f.Segments); err != nil {
		return err
	}
	switch f.NewUsers {
	case "", "any_day", "first_day":
	default:
		return fieldErr("new_users", "unknown value %q (any_day or first_day)", f.NewUsers)
	}
	if len(f.Exclusions) > maxExclusions {
		return fieldErr("exclusions", "at most %d, got %d", maxExclusions, len(f.Exclusions))
	}
	for i := range f.Exclusions {
		x := &f.Exclusions[i]
		if err := validateEvent(&x.EventType, x.Filters); err != nil {
			return prefixed(fmt.Sprintf("exclusions[%d]", i), err)
		}
		if x.From == 0 && x.To == 0 {
			x.From, x.To = 1, n
		}
		if x.From < 1 || x.To > n || x.From >= x.To {
			return fieldErr(fmt.Sprintf("exclusions[%d]", i), "from_step and to_step must satisfy 1 <= from < to <= %d, got %d and %d", n, x.From, x.To)
		}
	}
	// Ranges may be equal or disjoint (sharing at most a step), so at most
	// one range constrains each step transition (funnel_kernel.go).
	for i, x := range f.Exclusions {
		for _, y := range f.Exclusions[:i] {
			same := x.From == y.From && x.To == y.To
			disjoint := x.To <= y.From || y.To <= x.From
			if !same && !disjoint {
				return fieldErr(fmt.Sprintf("exclusions[%d]", i), "step range %d-%d partly overlaps %d-%d: ranges must be equal or disjoint", x.From, x.To, y.From, y.To)
			}
		}
	}
	for i, h := range f.Hold {
		if err := h.validate(); err != nil {
			return prefixed(fmt.Sprintf("hold[%d]", i), err)
		}
	}
	if g := f.GroupBy; g != nil {
		if g.Step == 0 {
			g.Step = 1
		}
		if g.Step < 1 || g.Step > n {
			return fieldErr("group_by.step", "must be 1 to %d, got %d", n, g.Step)
		}
		if err := g.PropRef.validate(); err != nil {
			return prefixed("group_by", err)
		}
	}
	switch f.Counting {
	case "":
		f.Counting = "uniques"
	case "uniques", "totals":
	default:
		return fieldErr("counting", "unknown counting %q (uniques or totals)", f.Counting)
	}
	switch f.Resolution {
	case "":
		f.Resolution = "second"
	case "second", "millisecond":
	default:
		return fieldErr("resolution", "unknown resolution %q (second or millisecond)", f.Resolution)
	}
	if f.Convert == nil {
		f.Convert = &StepPair{From: 1, To: n}
	}
	if c := f.Convert; c.From < 1 || c.To > n || c.From > c.To {
		return fieldErr("convert", "want 1 <= from <= to <= %d, got %d and %d", n, c.From, c.To)
	}
	if o := f.optional(); o > 0 {
		if g := f.GroupBy; g != nil && g.Step == o {
			return fieldErr("group_by.step", "the optional step %d cannot be the group-by step", o)
		}
		if c := f.Convert; c.From == o || c.To == o {
			return fieldErr("convert", "the optional step %d cannot be a time-to-convert step", o)
		}
		for i, x := range f.Exclusions {
			if x.From == o || x.To == o {
				return fieldErr(fmt.Sprintf("exclusions[%d]", i), "a step range cannot begin or end at the optional step %d", o)
			}
		}
	}
	if f.GroupLimit == 0 {
		f.GroupLimit = 100
	}
	if f.GroupLimit < 1 || f.GroupLimit > maxFunnelGroup {
		return fieldErr("group_limit", "must be 1 to %d, got %d", maxFunnelGroup, f.GroupLimit)
	}
	switch f.WeekStart {
	case "", "sunday", "monday":
	default:
		return fieldErr("week_start", "unknown week start %q (sunday or monday)", f.WeekStart)
	}
	return nil
}

// validateOptional allows one optional step, neither the first nor the
// last.
func (f *Funnel) validateOptional() error {
	seen := -1
	for i, s := range f.Steps {
		if !s.Optional {
			continue
		}
		if i == 0 || i == len(f.Steps)-1 {
			return fieldErr(fmt.Sprintf("steps[%d].optional", i), "the first and last steps cannot be optional")
		}
		if seen >= 0 {
			return fieldErr(fmt.Sprintf("steps[%d].optional", i), "only one step can be optional (steps[%d] is)", seen)
		}
		seen = i
	}
	return nil
}

// optional returns the 1-based optional step, or 0.
func (f *Funnel) optional() int {
	for i, s := range f.Steps {
		if s.Optional {
			return i + 1
		}
	}
	return 0
}

// validateEvent checks an event type (a raw name, ce:<name>, _active or
// _all) and its filters.
func validateEvent(eventType *string, filters []Filter) error {
	*eventType = strings.TrimPrefix(*eventType, "ce:")
	if *eventType == "" {
		return fieldErr("event_type", "missing")
	}
	if *eventType == EventNew {
		return fieldErr("event_type", "%s is not a step event", EventNew)
	}
	for i, fl := range filters {
		if err := fl.validate(); err != nil {
			return prefixed(fmt.Sprintf("filters[%d]", i), err)
		}
	}
	return nil
}

func weekday(s string) time.Weekday {
	if s == "monday" {
		return time.Monday
	}
	return time.Sunday
}

// EntryMayBeInactive reports whether a user may enter f on an event that
// is not active (spec §5.0): an entry step of _all or of an inactive
// type (in any order every step is an entry step). Otherwise every
// entering user is active in the entry's interval.
func (f *Funnel) EntryMayBeInactive() bool {
	steps := f.Steps[:1]
	if f.Order == OrderAny {
		steps = f.Steps
	}
	for _, s := range steps {
		if s.EventType == EventAll || slices.Contains(inactiveTypes, s.EventType) {
			return true
		}
	}
	return false
}

// window returns the conversion window in milliseconds (whole days for
// any order).
func (f *Funnel) window() int64 {
	w := f.WindowSeconds
	if f.Order == OrderAny {
		w = max(w/86400, 1) * 86400
	}
	return w * 1000
}

// stepLabel is the display name of step i.
func (f *Funnel) stepLabel(i int) string {
	return displayName(f.Steps[i].EventType, f.Steps[i].Label)
}

// FunnelResult is the result of a funnel chart: one FunnelSeries per
// segment and group.
type FunnelResult struct {
	Steps []string `json:"steps"`
	// XValues are the entry buckets of conversion over time.
	XValues []string       `json:"x_values"`
	Series  []FunnelSeries `json:"series"`
}

// FunnelSeries is the funnel of one segment and group. Times are in
// milliseconds.
type FunnelSeries struct {
	Label   string   `json:"label"`
	Segment int      `json:"segment"`
	Group   []string `json:"group,omitempty"`
	// Counts are the users (or, counting totals, attempts) reaching each step.
	Counts []int64 `json:"counts"`
	// Cumulative is Counts[k] ÷ Counts[0]; StepByStep Counts[k] ÷ Counts[k-1].
	Cumulative []float64 `json:"cumulative"`
	StepByStep []float64 `json:"step_by_step"`
	// AvgTransMs and MedianTransMs are the times from step k-1 to step k
	// (0 for step 0) over the sequences that reached step k.
	AvgTransMs    []float64 `json:"avg_trans_ms"`
	MedianTransMs []float64 `json:"median_trans_ms"`
	// OverTime holds, per x value (entry bucket), the counts per step;
	// a user entering in several buckets counts in each.
	OverTime              [][]int64   `json:"over_time"`
	OverTimeAvgTransMs    [][]float64 `json:"over_time_avg_trans_ms"`
	OverTimeMedianTransMs [][]float64 `json:"over_time_median_trans_ms"`
	// TimeToConvert is the histogram of times between the Convert steps,
	// with their median and average.
	TimeToConvert   Histogram `json:"time_to_convert"`
	MedianConvertMs float64   `json:"median_convert_ms"`
	AvgConvertMs    float64   `json:"avg_convert_ms"`
	// StepTimes[k] is the histogram of times from step k-1 to step k.
	StepTimes []Histogram `json:"step_times"`
	// StepFrequency[k] is the distribution of how many times a sequence
	// did step k-1 (from its entry) before first doing step k.
	StepFrequency []Histogram `json:"step_frequency"`
	// Without is, for a funnel with an optional step, the same series'
	// funnel without that step: its arrays have one entry per step but
	// the optional one, and count the sequences through the required
	// steps, whether or not the optional step was done between them
	// (docs/funnels.md). The series itself requires the optional step.
	Without *FunnelSeries `json:"without,omitempty"`
}

// Histogram is a list of bins; Start is inclusive, End exclusive.
type Histogram struct {
	// Width is the bin width (ms for times, 1 for counts).
	Width int64 `json:"width"`
	Bins  []Bin `json:"bins"`
}

// Bin is one histogram bin.
type Bin struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Count int64 `json:"count"`
}
