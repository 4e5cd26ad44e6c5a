package query

import (
	"context"
	"fmt"
	"strings"
)

// needsProp reports whether a formula function reads the event's property.
func needsProp(fn string) bool {
	switch fn {
	case "PROPSUM", "PROPAVG", "PROPMAX", "PROPMIN", "REVENUETOTAL", "ARPAU", "PERCENTILE",
		"PROPCOUNT", "PROPCOUNTAVG", "PROPHIST", "SEMANTICTOTALS":
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
				kind := "a numeric property"
				switch m.fn {
				case "PROPCOUNT", "PROPCOUNTAVG":
					kind = "a property"
				case "SEMANTICTOTALS":
					kind = "an array property"
				}
				return fieldErr(fmt.Sprintf("events[%d].property", m.event), "%s needs %s", m.fn, kind)
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
// group value shared by the events it reads, and per bin for a formula
// reading a distribution (HIST, PROPHIST).
func (r *run) formulas(ctx context.Context, res *Result) error {
	s := r.s
	if err := s.checkFormulas(); err != nil {
		return err
	}
	uniq := map[int]bool{} // events whose uniques some formula reads or ranks by
	for _, f := range s.formulas {
		for _, m := range f.metrics() {
			switch m.fn {
			case "UNIQUES", "ACTIVE", "AVG", "HIST", "FREQPERCENTILE":
				uniq[m.event] = true
			}
		}
	}
	for si := range r.segs {
		seg := &r.segs[si]
		aggs := map[int]*agg{}
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
		type wkey struct {
			ev, n  int
			before bool
		}
		type akey struct {
			n      int
			before bool
		}
		actWin := map[akey][]float64{}
		wins := map[wkey]map[string][]cell{}
		cums := map[int]map[string][]float64{}
		extras := map[xkey]map[string]*xgroup{}
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
				if wk := (wkey{m.event, m.window, m.before}); m.window > 0 && wins[wk] == nil {
					window := r.windowCells
					if m.before {
						window = r.windowCellsBefore
					}
					cells, wact, err := window(ctx, ev, seg, ev.GroupBy, ev.Property, m.window, true)
					if err != nil {
						return err
					}
					wins[wk] = cells
					actWin[akey{m.window, m.before}] = wact
				}
				if m.cum && m.fn == "UNIQUES" && cums[m.event] == nil {
					c, err := r.cumulativeUniques(ctx, ev, seg, ev.GroupBy)
					if err != nil {
						return err
					}
					cums[m.event] = c
				}
				if xk, ok := extraKey(m); ok && extras[xk] == nil {
					x, err := r.extra(ctx, seg, xk)
					if err != nil {
						return err
					}
					extras[xk] = x
				}
			}
			dist, err := r.formulaBins(ctx, f, seg)
			if err != nil {
				return err
			}
			if len(keys) > s.GroupLimit {
				keys = keys[:s.GroupLimit]
			}
			for _, k := range keys {
				for bin, bucket := range dist.labels {
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
						if distFuncs[m.fn] {
							return dist.value(m.event, g.keyString(), bin, r.b.n())
						}
						if xk, ok := extraKey(m); ok {
							if x := extras[xk][g.keyString()]; x != nil {
								v.collapsed = extraValue(m.fn, x.all)
								for i, row := range x.pts {
									v.points[i] = extraValue(m.fn, row)
								}
							}
							return v
						}
						v.collapsed = formulaValue(m.fn, g.all, actAll)
						switch {
						case m.window > 0:
							cells := wins[wkey{m.event, m.window, m.before}][g.keyString()]
							for i := range v.points {
								if cells != nil {
									v.points[i] = formulaValue(m.fn, cells[i], actWin[akey{m.window, m.before}][i])
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
						Label: r.label(f.text, si, group, bucket), Event: -1, Formula: fi, Segment: si,
						Group: group, Bucket: bucket, Format: f.format, Values: val.points, Collapsed: val.collapsed,
					})
				}
			}
		}
	}
	return nil
}

func (g *gdata) keyString() string { return strings.Join(g.key, "\x00") }
