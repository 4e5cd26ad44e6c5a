package querytest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/query"
)

// runAnalysis runs the funnel, retention and sessions definitions
// (checking every funnel bar and retention cell against the users
// behind it, pointcheck.go). A
// definition may carry "show": a list of the optional parts of the
// result to print (funnels: times, over_time, convert, frequency).
// It reports false for other types.
func runAnalysis(t *testing.T, eng *query.Engine, p query.Project, now time.Time, def string) (string, bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(def), &raw); err != nil {
		return "", false
	}
	var typ string
	_ = json.Unmarshal(raw["type"], &typ)
	var show []string
	if s, ok := raw["show"]; ok {
		if err := json.Unmarshal(s, &show); err != nil {
			return "error: show: " + err.Error(), true
		}
		delete(raw, "show")
	}
	body, err := json.Marshal(raw)
	if err != nil {
		return "error: " + err.Error(), true
	}
	switch typ {
	case query.TypeFunnel:
		f, err := query.ParseFunnel(body)
		if err != nil {
			return "error: " + err.Error(), true
		}
		r, err := eng.Funnel(t.Context(), p, f, now)
		if err != nil {
			return "error: " + err.Error(), true
		}
		checkFunnelPoints(t, eng, p, now, f, r)
		return RenderFunnel(r, show), true
	case query.TypeRetention:
		rd, err := query.ParseRetention(body)
		if err != nil {
			return "error: " + err.Error(), true
		}
		r, err := eng.Retention(t.Context(), p, rd, now)
		if err != nil {
			return "error: " + err.Error(), true
		}
		checkRetentionPoints(t, eng, p, now, rd, r)
		return RenderRetention(r), true
	case query.TypeSessions:
		sd, err := query.ParseSessions(body)
		if err != nil {
			return "error: " + err.Error(), true
		}
		r, err := eng.Sessions(t.Context(), p, sd, now)
		if err != nil {
			return "error: " + err.Error(), true
		}
		return Render(r), true
	}
	return "", false
}

func nums[T int64 | float64](xs []T) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = num(float64(x))
	}
	return strings.Join(parts, " ")
}

func hist(h query.Histogram) string {
	var parts []string
	for _, b := range h.Bins {
		if b.Count > 0 {
			parts = append(parts, fmt.Sprintf("%d:%d", b.Start, b.Count))
		}
	}
	return strings.Join(parts, " ")
}

// RenderFunnel is the text form of a funnel result: the step counts per
// series, and the parts named in show; with an optional step, then the
// funnel without it (". without: ...").
func RenderFunnel(r *query.FunnelResult, show []string) string {
	var b strings.Builder
	b.WriteString("steps: " + strings.Join(r.Steps, " · "))
	for _, s := range r.Series {
		fmt.Fprintf(&b, "\n%s: %s", s.Label, nums(s.Counts))
		if slices.Contains(show, "conversion") {
			fmt.Fprintf(&b, "\n. cumulative: %s\n. step_by_step: %s", nums(s.Cumulative), nums(s.StepByStep))
		}
		if slices.Contains(show, "times") {
			fmt.Fprintf(&b, "\n. avg_ms: %s\n. median_ms: %s", nums(s.AvgTransMs), nums(s.MedianTransMs))
		}
		if slices.Contains(show, "over_time") {
			for i, x := range r.XValues {
				if s.OverTime[i][0] > 0 {
					fmt.Fprintf(&b, "\n. %s: %s", x, nums(s.OverTime[i]))
				}
			}
		}
		if slices.Contains(show, "convert") {
			fmt.Fprintf(&b, "\n. convert: median %s avg %s width %d bins %s", num(s.MedianConvertMs), num(s.AvgConvertMs),
				s.TimeToConvert.Width, hist(s.TimeToConvert))
		}
		if slices.Contains(show, "frequency") {
			for k := 1; k < len(s.StepFrequency); k++ {
				fmt.Fprintf(&b, "\n. frequency %d: %s", k+1, hist(s.StepFrequency[k]))
			}
		}
		if w := s.Without; w != nil {
			fmt.Fprintf(&b, "\n. without: %s", nums(w.Counts))
			if slices.Contains(show, "conversion") {
				fmt.Fprintf(&b, "\n. without cumulative: %s\n. without step_by_step: %s", nums(w.Cumulative), nums(w.StepByStep))
			}
			if slices.Contains(show, "over_time") {
				for i, x := range r.XValues {
					if w.OverTime[i][0] > 0 {
						fmt.Fprintf(&b, "\n. without %s: %s", x, nums(w.OverTime[i]))
					}
				}
			}
		}
	}
	return b.String()
}

// RenderRetention is the text form of a retention result: per series,
// one line per cohort (size: retained per column, * marking incomplete
// cells) and the overall row (retained/out of, - when no cohort is
// complete); in the usage interval view, the users per column.
func RenderRetention(r *query.RetentionResult) string {
	var b strings.Builder
	b.WriteString("columns: " + strings.Join(r.Columns, " · "))
	for _, s := range r.Series {
		fmt.Fprintf(&b, "\n%s: users %d", s.Label, s.Users)
		if s.Usage != nil {
			b.WriteString("\n. usage:")
			for _, n := range s.Usage {
				fmt.Fprintf(&b, " %d", n)
			}
			continue
		}
		for _, row := range s.Rows {
			fmt.Fprintf(&b, "\n. %s %d:", row.Cohort, row.Size)
			for _, c := range row.Cells {
				mark := ""
				if c.Incomplete {
					mark = "*"
				}
				fmt.Fprintf(&b, " %d%s", c.Count, mark)
			}
		}
		b.WriteString("\n. overall:")
		for _, c := range s.Overall {
			if c.Incomplete {
				b.WriteString(" -")
			} else {
				fmt.Fprintf(&b, " %d/%d", c.Count, c.OutOf)
			}
		}
	}
	return b.String()
}
