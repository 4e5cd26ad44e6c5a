//go:build e2e

package e2e

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

// BenchmarkFunnels times funnels, retention and sessions through the
// HTTP API over the cached demo data (CREST_BENCH_EVENTS, default 10M)
// and reports the median latency of the b.N runs (-benchtime=7x for a
// median of 7). Targets on a 2-core machine over 10M events: 3-step
// funnel 400 ms, 30-day retention 300 ms, sessions 300 ms
// (docs/funnels.md).
func BenchmarkFunnels(b *testing.B) {
	srv := loadedServer(b)
	today := time.Now().UTC()
	start, end := today.AddDate(0, 0, -89).Format("20060102"), today.Format("20060102")
	start30 := today.AddDate(0, 0, -29).Format("20060102")
	cases := []struct {
		name   string
		path   string
		params url.Values
	}{
		{"funnel-3-step-1d-90d", "/api/2/funnels", url.Values{
			"e":  {`{"event_type":"Open App"}`, `{"event_type":"Search"}`, `{"event_type":"Play Song"}`},
			"cs": {"86400"}, "start": {start}, "end": {end}}},
		{"funnel-3-step-1d-90d-by-country", "/api/2/funnels", url.Values{
			"e":  {`{"event_type":"Open App"}`, `{"event_type":"Search"}`, `{"event_type":"Play Song"}`},
			"cs": {"86400"}, "g": {"country"}, "start": {start}, "end": {end}}},
		{"retention-30d-nday", "/api/2/retention", url.Values{
			"se": {`{"event_type":"_active"}`}, "re": {`{"event_type":"_active"}`}, "start": {start30}, "end": {end}}},
		{"sessions-average-90d", "/api/2/sessions/average", url.Values{"start": {start}, "end": {end}}},
		{"sessions-length-90d", "/api/2/sessions/length", url.Values{"start": {start}, "end": {end}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			if code := getAPI2(b, srv.URL, c.path, c.params, nil); code != 200 {
				b.Fatalf("%s: status %d", c.path, code)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if code := getAPI2(b, srv.URL, c.path, c.params, nil); code != 200 {
					b.Fatalf("%s: status %d", c.path, code)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
		})
	}
}
