package query

import (
	"context"
	"fmt"
	"strings"
)

// needsProp reports whether a formula function reads the event's property.
func needsProp(fn string) bool {
	switch fn {
	case "PROPSUM", "PROPAVG", "PROPMAX", "PROPMIN", "REVENUETOTAL", "ARPAU":
		return true
	}
	return false
}

// checkFormulas checks that the events used by property functions have a
// property.
func (s *Segmentation) checkFormulas() error {
	for _, f := range s.formulas {
		for _, m := range f.metrics() {
			if needsProp(m.fn) && s.Events[m.event].Property == nil {
				return fieldErr(fmt.Sprintf("events[%d].property", m.event), "%s needs a numeric property", m.fn)
			}
		}
	}
	return nil
}

// formulaValue computes metric function fn from a cell.
func formulaValue(fn string, c cell, act float64) float64 {
	switch fn {
	case "UNIQUES":
		return c.uniques
	case "TOTALS":
		return c.totals
	case "ACTIVE":
		return div(c.uniques, act)
	case "AVG":
		return div(c.totals, c.uniques)
	case "PROPSUM", "REVENUETOTAL":
		return c.sum
	case "PROPAVG":
		return div(c.sum, c.cnt)
	case "PROPMAX":
		return c.max
	case "PROPMIN":
		return c.min
	case "ARPAU":
		return div(c.sum, act)
	}
	panic("BUG: formula function " + fn)
}

// formulas computes a formula chart: one series per formula, segment and
// group value shared by the events it reads.
func (r *run) formulas(ctx context.Context, res *Result) error {
	s := r.s
	if err := s.checkFormulas(); err != nil {
		return err
	}
	for si := range r.segs {
		seg := &r.segs[si]
		aggs := map[int]*agg{}
		uniq := map[int]bool{} // events whose uniques some formula reads
		for _, f := range s.formulas {
			for _, m := range f.metrics() {
				switch m.fn {
				case "UNIQUES", "ACTIVE", "AVG":
					uniq[m.event] = true
				}
			}
		}
		getAgg := func(ei int) (*agg, error) {
			if a := aggs[ei]; a != nil {
				return a, nil
			}
			ev := &s.Events[ei]
			a, err := r.aggregate(ctx, r.b, ev, seg, ev.GroupBy, ev.Property, uniq[ei], false)
			aggs[ei] = a
			return a, err
		}
		var act []float64
		var actAll float64
		actWin := map[int][]float64{}
		type wkey struct{ ev, n int }
		wins := map[wkey]map[string][]cell{}
		cums := map[int]map[string][]float64{}
		for fi, f := range s.formulas {
			// Prepare every aggregate the formula reads.
			var keys []string
			seen := map[string]bool{}
			grouped := false
			for _, m := range f.metrics() {
				grouped = grouped || len(s.Events[m.event].GroupBy) > 0
			}
			if grouped {
				seen[""] = true // ungrouped events apply to every group
			}
			for _, m := range f.metrics() {
				a, err := getAgg(m.event)
				if err != nil {
					return err
				}
				rank := func(g *gdata) float64 { return g.all.totals }
				if uniq[m.event] {
					rank = func(g *gdata) float64 { return g.all.uniques }
				}
				for _, k := range topGroups(a, s.GroupLimit, rank) {
					if !seen[k] {
						seen[k] = true
						keys = append(keys, k)
					}
				}
				if (m.fn == "ACTIVE" || m.fn == "ARPAU") && act == nil {
					if act, actAll, err = r.activeUsers(ctx, r.b, seg); err != nil {
						return err
					}
				}
				ev := &s.Events[m.event]
				if m.window > 0 && wins[wkey{m.event, m.window}] == nil {
					cells, wact, err := r.windowCells(ctx, ev, seg, ev.GroupBy, ev.Property, m.window, true)
					if err != nil {
						return err
					}
					wins[wkey{m.event, m.window}] = cells
					actWin[m.window] = wact
				}
				if m.cum && m.fn == "UNIQUES" && cums[m.event] == nil {
					c, err := r.cumulativeUniques(ctx, ev, seg, ev.GroupBy)
					if err != nil {
						return err
					}
					cums[m.event] = c
				}
			}
			if len(keys) > s.GroupLimit {
				keys = keys[:s.GroupLimit]
			}
			for _, k := range keys {
				get := func(m fmetric) fvalue {
					a := aggs[m.event]
					g := a.groups[k]
					if g == nil && len(s.Events[m.event].GroupBy) == 0 {
						g = a.groups[""]
					}
					v := fvalue{points: make([]float64, r.b.n())}
					if g == nil {
						return v
					}
					v.collapsed = formulaValue(m.fn, g.all, actAll)
					switch {
					case m.window > 0:
						cells := wins[wkey{m.event, m.window}][g.keyString()]
						for i := range v.points {
							if cells != nil {
								v.points[i] = formulaValue(m.fn, cells[i], actWin[m.window][i])
							}
						}
					default:
						for i, c := range g.pts {
							var ac float64
							if act != nil {
								ac = act[i]
							}
							v.points[i] = formulaValue(m.fn, c, ac)
						}
					}
					if m.cum {
						if c := cums[m.event][g.keyString()]; c != nil && m.fn == "UNIQUES" {
							copy(v.points, c)
						} else {
							for i := 1; i < len(v.points); i++ {
								v.points[i] += v.points[i-1]
							}
						}
					}
					return v
				}
				val := f.eval(f.root, r.b.n(), get)
				var group []string
				if k != "" {
					group = strings.Split(k, "\x00")
				}
				res.Series = append(res.Series, Series{
					Label: r.label(f.text, si, group, ""), Event: -1, Formula: fi, Segment: si,
					Group: group, Format: f.format, Values: val.points, Collapsed: val.collapsed,
				})
			}
		}
	}
	return nil
}

func (g *gdata) keyString() string { return strings.Join(g.key, "\x00") }
