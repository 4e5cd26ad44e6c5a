package analytics

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/query"
)

// ampRetentionDef translates the parameters of /api/2/retention.
func ampRetentionDef(q url.Values) (*query.Retention, error) {
	rd := &query.Retention{Type: query.TypeRetention, Version: query.RetentionVersion}
	var err error
	if rd.Start, err = ampRetentionEvent("se", q.Get("se")); err != nil {
		return nil, err
	}
	res := q["re"]
	if len(res) == 0 {
		return nil, api.BadRequest("re: missing (return event JSON)")
	}
	for _, raw := range res {
		ev, err := ampRetentionEvent("re", raw)
		if err != nil {
			return nil, err
		}
		rd.Return = append(rd.Return, ev)
	}
	switch m := q.Get("rm"); m {
	case "", "n-day", "nday":
		rd.Mode = query.ModeNDay
	case "rolling", "unbounded":
		rd.Mode = query.ModeUnbounded
	case "bracket":
		rd.Mode = query.ModeBracket
		if err := json.Unmarshal([]byte(q.Get("rb")), &rd.Brackets); err != nil {
			return nil, api.BadRequest("rb: want brackets like [[0,5]], got %q", q.Get("rb"))
		}
	default:
		return nil, api.BadRequest("rm: want n-day, rolling or bracket, got %q", m)
	}
	if rd.Range, err = ampRange(q); err != nil {
		return nil, err
	}
	switch i := q.Get("i"); i {
	case "", "1":
		rd.Interval = query.Day
	case "7":
		rd.Interval = query.Week
	case "30":
		rd.Interval = query.Month
	default:
		return nil, api.BadRequest("i: want 1, 7 or 30, got %q", i)
	}
	seg, err := parseAmpSegment(q.Get("s"))
	if err != nil {
		return nil, err
	}
	if len(seg.Filters) > 0 || len(seg.Performed) > 0 {
		rd.Segments = []query.Segment{seg}
	}
	if g := q.Get("g"); g != "" {
		p := ampProp("user", g)
		rd.GroupBy = &p
	}
	if err := rd.Validate(); err != nil {
		return nil, err
	}
	return rd, nil
}

// ampCell is one retention cell of the Dashboard API.
type ampCell struct {
	Count         int64  `json:"count"`
	OutOf         int64  `json:"outof"`
	Incomplete    bool   `json:"incomplete"`
	RetainedSetID string `json:"retainedSetId,omitempty"`
}

func (h *handlers) ampRetention(r *http.Request, p query.Project) (any, error) {
	rd, err := ampRetentionDef(r.URL.Query())
	if err != nil {
		return nil, err
	}
	res, err := h.d.Engine.Retention(r.Context(), p, rd, h.d.Now())
	if err != nil {
		return nil, err
	}
	type series struct {
		Dates    []string             `json:"dates"`
		Values   map[string][]ampCell `json:"values"`
		Combined []ampCell            `json:"combined"`
	}
	type seriesMeta struct {
		SegmentIndex int    `json:"segmentIndex"`
		EventIndex   int    `json:"eventIndex"`
		GroupValue   string `json:"groupValue,omitempty"`
	}
	out := struct {
		Series     []series     `json:"series"`
		SeriesMeta []seriesMeta `json:"seriesMeta"`
	}{Series: []series{}, SeriesMeta: []seriesMeta{}}
	for _, s := range res.Series {
		sr := series{Values: map[string][]ampCell{}}
		// Index 0 is the cohort size, index N+1 the column N.
		for _, row := range s.Rows {
			sr.Dates = append(sr.Dates, row.Cohort)
			cells := []ampCell{{Count: row.Size, OutOf: row.Size}}
			for _, c := range row.Cells {
				cells = append(cells, ampCell{Count: c.Count, OutOf: c.OutOf, Incomplete: c.Incomplete})
			}
			sr.Values[row.Cohort] = cells
		}
		slices.Reverse(sr.Dates)
		if sr.Dates == nil {
			sr.Dates = []string{}
		}
		sr.Combined = []ampCell{{Count: s.Users, OutOf: s.Users, RetainedSetID: "0"}}
		for i, c := range s.Overall {
			sr.Combined = append(sr.Combined, ampCell{Count: c.Count, OutOf: c.OutOf, Incomplete: c.Incomplete, RetainedSetID: itoa(i + 1)})
		}
		out.Series = append(out.Series, sr)
		m := seriesMeta{SegmentIndex: s.Segment, EventIndex: s.Event}
		if len(s.Group) > 0 {
			m.GroupValue = s.Group[0]
		}
		out.SeriesMeta = append(out.SeriesMeta, m)
	}
	return map[string]any{"data": out}, nil
}
