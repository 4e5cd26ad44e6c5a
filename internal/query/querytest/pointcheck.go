package querytest

import (
	"errors"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/query"
)

// Every funnel and retention chart of the case files is checked against
// the users listed behind its bars and cells (query.FunnelUsers,
// query.RetentionUsers): the users listed must add up to the figure the
// chart shows. Per bar or cell, Σ Events of the users listed is the
// count (sequences, attempts or (user, cohort) pairs), and the number of
// users is the count itself wherever the chart counts users once: funnels
// counting uniques without a held property, and each cohort's cells.

// maxCheckedBuckets bounds the entry buckets checked per funnel series,
// and maxBucketSteps the steps of a funnel whose buckets are checked
// (each check runs the funnel again: the 25-step case took 7 s on
// ClickHouse before buckets were left out there).
const (
	maxCheckedBuckets = 3
	maxBucketSteps    = 6
)

// pointSum lists every user behind a point (one page holds the case
// data) and returns their number and Σ Events.
func pointSum(r *query.PointUsers) (users, events int64) {
	for _, u := range r.Users {
		events += u.Events
	}
	return r.Total, events
}

func checkFunnelPoints(t *testing.T, eng *query.Engine, p query.Project, now time.Time, f *query.Funnel, res *query.FunnelResult) {
	t.Helper()
	once := f.Counting == "uniques" && len(f.Hold) == 0
	check := func(s *query.FunnelSeries, pt query.FunnelPoint, want int64) {
		t.Helper()
		r, err := eng.FunnelUsers(t.Context(), p, f, pt, query.MaxPointUsers, 0, now)
		if err != nil {
			t.Errorf("funnel users of %s %+v: %v", s.Label, pt, err)
			return
		}
		users, events := pointSum(r)
		if events != want || (once && users != want) || users > want {
			t.Errorf("funnel users of %s %+v: %d users, %d sequences; the chart counts %d", s.Label, pt, users, events, want)
		}
	}
	for i := range res.Series {
		s := &res.Series[i]
		variants := []struct {
			without bool
			s       *query.FunnelSeries
		}{{false, s}}
		if s.Without != nil {
			variants = append(variants, struct {
				without bool
				s       *query.FunnelSeries
			}{true, s.Without})
		}
		for _, v := range variants {
			counts := v.s.Counts
			for k := range counts {
				pt := query.FunnelPoint{Segment: s.Segment, Group: s.Group, Step: k, Without: v.without}
				check(s, pt, counts[k])
				if k+1 < len(counts) {
					pt.Outcome = query.OutcomeDropped
					check(s, pt, counts[k]-counts[k+1])
				}
			}
			checked := 0
			for b, x := range res.XValues {
				if v.s.OverTime[b][0] == 0 || checked == maxCheckedBuckets || len(counts) > maxBucketSteps {
					continue
				}
				checked++
				for k, c := range v.s.OverTime[b] {
					check(s, query.FunnelPoint{Segment: s.Segment, Group: s.Group, Step: k, X: x, Without: v.without}, c)
				}
			}
		}
	}
}

func checkRetentionPoints(t *testing.T, eng *query.Engine, p query.Project, now time.Time, rd *query.Retention, res *query.RetentionResult) {
	t.Helper()
	if rd.View == query.ViewUsageInterval {
		if _, err := eng.RetentionUsers(t.Context(), p, rd, query.RetentionPoint{}, query.MaxPointUsers, 0, now); !errors.Is(err, query.ErrInvalid) {
			t.Errorf("users of a usage interval point: %v, want an invalid definition", err)
		}
		return
	}
	check := func(s *query.RetentionSeries, pt query.RetentionPoint, want int64, once bool) {
		t.Helper()
		r, err := eng.RetentionUsers(t.Context(), p, rd, pt, query.MaxPointUsers, 0, now)
		if err != nil {
			t.Errorf("retention users of %s %+v: %v", s.Label, pt, err)
			return
		}
		users, events := pointSum(r)
		if (once && (users != want || events != want)) || (!once && (events != want || users > want)) {
			t.Errorf("retention users of %s %+v: %d users in %d cohorts; the chart counts %d", s.Label, pt, users, events, want)
		}
	}
	for i := range res.Series {
		s := &res.Series[i]
		base := query.RetentionPoint{Segment: s.Segment, Event: s.Event, Group: s.Group}
		for _, row := range s.Rows {
			pt := base
			pt.Cohort, pt.Size = row.Cohort, true
			check(s, pt, row.Size, true)
			for col, c := range row.Cells {
				pt := base
				pt.Cohort, pt.Column = row.Cohort, col
				check(s, pt, c.Count, true)
			}
		}
		// The overall size is the series' distinct users; overall cells
		// sum the complete cohorts' cells.
		pt := base
		pt.Size = true
		r, err := eng.RetentionUsers(t.Context(), p, rd, pt, query.MaxPointUsers, 0, now)
		if err != nil {
			t.Errorf("retention users of %s %+v: %v", s.Label, pt, err)
		} else if r.Total != s.Users {
			t.Errorf("retention users of %s %+v: %d users; the series has %d", s.Label, pt, r.Total, s.Users)
		}
		for col, c := range s.Overall {
			pt := base
			pt.Column = col
			check(s, pt, c.Count, false)
		}
	}
}
