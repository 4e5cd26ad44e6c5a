package analytics

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/query"
)

func itoa(i int) string { return strconv.Itoa(i) }

// ampSessionBins reads the timeHistogramConfig* parameters of
// /api/2/sessions/length: bins of BinSize from BinMin to BinMax, in
// BinTimeUnit (hours, minutes or seconds); the default bins otherwise.
func ampSessionBins(q url.Values) ([]int64, error) {
	const pre = "timeHistogramConfigBin"
	unit, lo, hi, size := q.Get(pre+"TimeUnit"), q.Get(pre+"Min"), q.Get(pre+"Max"), q.Get(pre+"Size")
	if unit == "" && lo == "" && hi == "" && size == "" {
		return nil, nil
	}
	ms := map[string]int64{"hours": 3_600_000, "minutes": 60_000, "seconds": 1000, "": 1000}[unit]
	if ms == 0 {
		return nil, api.BadRequest("%sTimeUnit: want hours, minutes or seconds, got %q", pre, unit)
	}
	num := func(name, v string, def int64) (int64, error) {
		if v == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, api.BadRequest("%s%s: want a non-negative integer, got %q", pre, name, v)
		}
		return n, nil
	}
	l, err := num("Min", lo, 0)
	if err != nil {
		return nil, err
	}
	hv, err := num("Max", hi, 86_400_000/ms)
	if err != nil {
		return nil, err
	}
	sz, err := num("Size", size, 1)
	if err != nil {
		return nil, err
	}
	if sz == 0 || hv <= l || (hv-l)/sz > 100 {
		return nil, api.BadRequest("%s: want Min < Max and at most 100 bins of Size", pre)
	}
	var bins []int64
	for v := l; v < hv && v*ms < 86_400_000; v += sz {
		bins = append(bins, v*ms)
	}
	return bins, nil
}

func sessionsDef(q url.Values, metric string) (*query.Sessions, error) {
	s := &query.Sessions{Type: query.TypeSessions, Version: query.SessionsVersion, Metric: metric}
	var err error
	if s.Range, err = ampRange(q); err != nil {
		return nil, err
	}
	return s, nil
}

func (h *handlers) ampSessionLength(r *http.Request, p query.Project) (any, error) {
	q := r.URL.Query()
	s, err := sessionsDef(q, query.SessionLength)
	if err != nil {
		return nil, err
	}
	if s.Bins, err = ampSessionBins(q); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	res, err := h.d.Engine.Sessions(r.Context(), p, s, h.d.Now())
	if err != nil {
		return nil, err
	}
	counts, labels := []float64{}, []string{}
	for _, sr := range res.Series {
		counts = append(counts, sr.Collapsed)
		labels = append(labels, sr.Bucket)
	}
	return map[string]any{"data": map[string]any{"series": [][]float64{counts}, "xValues": labels}}, nil
}

// ampSessionMetric serves /api/2/sessions/average and /peruser: one
// series per day.
func (h *handlers) ampSessionMetric(metric string) func(r *http.Request, p query.Project) (any, error) {
	return func(r *http.Request, p query.Project) (any, error) {
		s, err := sessionsDef(r.URL.Query(), metric)
		if err != nil {
			return nil, err
		}
		if err := s.Validate(); err != nil {
			return nil, err
		}
		res, err := h.d.Engine.Sessions(r.Context(), p, s, h.d.Now())
		if err != nil {
			return nil, err
		}
		series := [][]float64{}
		for _, sr := range res.Series {
			series = append(series, sr.Values)
		}
		return map[string]any{"data": map[string]any{
			"series": series, "seriesMeta": []map[string]int{{"segmentIndex": 0}}, "xValues": res.XValues,
		}}, nil
	}
}
