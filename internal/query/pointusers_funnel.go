package query

import (
	"context"
	"strconv"
	"time"
)

// Funnel point outcomes.
const (
	OutcomeConverted = "converted" // reached the step
	OutcomeDropped   = "dropped"   // reached the step, not the next one
)

// FunnelPoint names one bar of a funnel chart: a step of one series
// (segment index and group values as in the result), the users who
// reached it or who dropped off after it, in the funnel itself or in one
// entry bucket of conversion over time.
type FunnelPoint struct {
	Segment int      `json:"segment"`
	Group   []string `json:"group,omitempty"`
	// Step is a 0-based index into the series' counts (into
	// Without.counts when Without is set).
	Step int `json:"step"`
	// Outcome is converted (default: users who reached Step) or dropped
	// (users who reached Step but not the next step; not on the last).
	Outcome string `json:"outcome,omitempty"`
	// X is an entry bucket of the result's x_values (conversion over
	// time); "" is the funnel over the whole range.
	X string `json:"x,omitempty"`
	// Without selects the funnel without the optional step.
	Without bool `json:"without,omitempty"`
}

// FunnelUsers lists the users behind one bar of funnel f for project p.
// The funnel kernel runs as for the chart and records the sequences that
// make up the bar, so the users listed are the ones counted: Total equals
// the bar's count when the funnel counts unique users without holding a
// property constant (otherwise the bar counts sequences, and a user with
// several is listed once, with Events sequences). Users come latest
// entry first, limit (1 to MaxPointUsers, 0 means 100) from offset.
// Bad points are *FieldError's under "point", "limit" or "offset".
func (e *Engine) FunnelUsers(ctx context.Context, p Project, f *Funnel, pt FunnelPoint, limit, offset int, now time.Time) (*PointUsers, error) {
	limit, err := pageArgs(limit, offset)
	if err != nil {
		return nil, err
	}
	segs := f.Segments
	if len(segs) == 0 {
		segs = []Segment{{Name: "All Users", Users: "any"}}
	}
	if pt.Segment < 0 || pt.Segment >= len(segs) {
		return nil, fieldErr("point.segment", "no segment %d (the chart has %d)", pt.Segment, len(segs))
	}
	seg := &segs[pt.Segment]
	wantGroups := 0
	if f.GroupBy != nil {
		wantGroups = 1
	}
	if len(pt.Group) != wantGroups {
		return nil, fieldErr("point.group", "want %d group values (the funnel's group-by), got %d", wantGroups, len(pt.Group))
	}
	n := len(f.Steps)
	if pt.Without {
		if f.optional() == 0 {
			return nil, fieldErr("point.without", "the funnel has no optional step")
		}
		n--
	}
	if pt.Step < 0 || pt.Step >= n {
		return nil, fieldErr("point.step", "want 0 to %d, got %d", n-1, pt.Step)
	}
	switch pt.Outcome {
	case "", OutcomeConverted:
	case OutcomeDropped:
		if pt.Step == n-1 {
			return nil, fieldErr("point.outcome", "no step after the last one to drop off before")
		}
	default:
		return nil, fieldErr("point.outcome", "unknown outcome %q (converted or dropped)", pt.Outcome)
	}

	fr, err := newFrame(p, f.Range, f.Interval, weekday(f.WeekStart), now)
	if err != nil {
		return nil, err
	}
	loc, b := fr.loc, fr.b
	starts := unixMillis(b.starts)
	bucket := -1
	if pt.X != "" {
		for i := 0; i < b.n(); i++ {
			if b.label(i) == pt.X {
				bucket = i
				break
			}
		}
		if bucket < 0 {
			return nil, fieldErr("point.x", "%q is not an x value of the chart", pt.X)
		}
	}
	from, to := fr.span.From.UnixMilli(), fr.span.To.UnixMilli()
	bounds := func(int64) (int64, int64) { return from, to }
	if f.NewUsers == "first_day" {
		bounds = func(first int64) (int64, int64) {
			d := time.UnixMilli(first).In(loc)
			day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
			return max(from, day.UnixMilli()), min(to, day.AddDate(0, 0, 1).UnixMilli())
		}
	}
	k := newFunnelKernel(f, starts)
	rec := &funnelRec{bucket: bucket, min: pt.Step + 1}
	if pt.Without {
		k.sub.rec = rec
	} else {
		k.rec = rec
	}
	acc, labels, err := e.foldFunnel(ctx, k, e.funnelSQL(p, f, seg, b, from, to), p.ID, bounds)
	if err != nil {
		return nil, err
	}
	t := pointTally{}
	for _, o := range acc.recs {
		if pt.Outcome == OutcomeDropped && int(o.level) != pt.Step+1 {
			continue
		}
		if k.grouped && k.groupLabel(o.g, labels) != pt.Group[0] {
			continue
		}
		t.add(o.uid, o.t)
	}
	return e.page(ctx, p, t, limit, offset)
}

// groupLabel is the label of group id g (labels from the feed's
// interner), as funnelSeries names it.
func (k *funnelKernel) groupLabel(g int32, labels []string) string {
	if g == didNotReach {
		return "(did not reach step " + strconv.Itoa(k.gStep+1) + ")"
	}
	return labels[g]
}
