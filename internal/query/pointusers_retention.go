package query

import (
	"context"
	"time"
)

// RetentionPoint names one cell of a retention chart: of one series
// (segment, return event and group values as in the result), the cell of
// column Column (or the cohort size) in the row of cohort Cohort, or in
// the overall row when Cohort is "".
type RetentionPoint struct {
	Segment int      `json:"segment"`
	Event   int      `json:"event"`
	Group   []string `json:"group,omitempty"`
	// Cohort is a cohort of the result ("" is the overall row).
	Cohort string `json:"cohort,omitempty"`
	// Column is a 0-based index into the row's cells.
	Column int `json:"column"`
	// Size selects the cohort's size instead of a column: the users of
	// the cohort (overall: of any cohort, the series' users).
	Size bool `json:"size,omitempty"`
}

// retSel is the point-user mode of the retention kernel: it records the
// users of column col (-1: the cohort sizes) of every cohort of one
// segment, and receives that segment's accumulators of return event
// event by group, their labels and the completeness of cells.
type retSel struct {
	segment, event, col int
	accs                map[int32]*retAcc
	labels              []string
	complete            func(c, n int) bool
}

// retOutcome is one recorded (user, cohort).
type retOutcome struct {
	uid    int64
	cohort int32
}

// RetentionUsers lists the users behind one cell of retention chart r
// for project p. The kernel runs as for the chart and records the users
// it counts in the cell, so for a cohort's cell Total is the cell's
// count (and the cohort's size for Size). The overall row sums cohorts
// (only those complete in the column): a user counted in several is
// listed once, with Events the number of cohorts, so Total may be less
// than the overall count; the overall size is the series' users. Users
// come latest cohort first, limit (1 to MaxPointUsers, 0 means 100) from
// offset. Bad points are *FieldError's under "point", "limit" or
// "offset".
func (e *Engine) RetentionUsers(ctx context.Context, p Project, r *Retention, pt RetentionPoint, limit, offset int, now time.Time) (*PointUsers, error) {
	limit, err := pageArgs(limit, offset)
	if err != nil {
		return nil, err
	}
	if r.View == ViewUsageInterval {
		return nil, fieldErr("definition.view", "the usage interval view does not list users")
	}
	nseg := max(len(r.Segments), 1)
	if pt.Segment < 0 || pt.Segment >= nseg {
		return nil, fieldErr("point.segment", "no segment %d (the chart has %d)", pt.Segment, nseg)
	}
	if pt.Event < 0 || pt.Event >= len(r.Return) {
		return nil, fieldErr("point.event", "no return event %d (the chart has %d)", pt.Event, len(r.Return))
	}
	wantGroups := 0
	if r.GroupBy != nil {
		wantGroups = 1
	}
	if len(pt.Group) != wantGroups {
		return nil, fieldErr("point.group", "want %d group values (the chart's group-by), got %d", wantGroups, len(pt.Group))
	}
	fr, err := newFrame(p, r.Range, r.Interval, weekday(r.WeekStart), now)
	if err != nil {
		return nil, err
	}
	b := fr.b
	ncol := r.Intervals
	switch {
	case r.Mode == ModeBracket:
		ncol = len(r.Brackets)
	case ncol == 0:
		ncol = b.n() + 1
	}
	col := -1
	if !pt.Size {
		if pt.Column < 0 || pt.Column >= ncol {
			return nil, fieldErr("point.column", "want 0 to %d, got %d", ncol-1, pt.Column)
		}
		col = pt.Column
	}
	cohort := -1
	if pt.Cohort != "" {
		for i := 0; i < b.n(); i++ {
			if b.label(i) == pt.Cohort {
				cohort = i
				break
			}
		}
		if cohort < 0 {
			return nil, fieldErr("point.cohort", "%q is not a cohort of the chart", pt.Cohort)
		}
	}
	sel := &retSel{segment: pt.Segment, event: pt.Event, col: col}
	if _, err := e.retention(ctx, p, r, now, sel); err != nil {
		return nil, err
	}
	var gid int32
	if r.GroupBy != nil {
		gid = -1
		for i, l := range sel.labels {
			if l == pt.Group[0] {
				gid = int32(i)
			}
		}
	}
	t := pointTally{}
	if a := sel.accs[gid]; a != nil {
		n := col
		if r.Mode == ModeBracket && col >= 0 {
			n = r.Brackets[col][1]
		}
		for _, o := range a.recs {
			c := int(o.cohort)
			switch {
			case cohort >= 0 && c != cohort:
				continue
			case cohort < 0 && col >= 0 && !sel.complete(c, n):
				continue
			}
			t.add(o.uid, b.starts[c].UnixMilli())
		}
	}
	return e.page(ctx, p, t, limit, offset)
}
