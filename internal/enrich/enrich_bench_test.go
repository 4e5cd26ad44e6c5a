package enrich

import (
	"fmt"
	"testing"

	useragent "github.com/medama-io/go-useragent"

	"github.com/crest-analytics/crest/internal/event"
)

// BenchmarkEnrich measures Enrich on a browser event as the SDK sends it:
// user agent, client IP and language tag, with the UA already cached.
func BenchmarkEnrich(b *testing.B) {
	e := newTestEnricher(b, Options{GeoIPDB: writeCityDB(b)})
	for _, bc := range []struct {
		name string
		ev   event.Event
	}{
		{"ua", event.Event{UserAgent: uaChromeWindows, Platform: "Web"}},
		{"geoip", event.Event{IP: "81.2.69.142"}},
		{"geoip-miss", event.Event{IP: "8.8.8.8"}},
		{"language", event.Event{Language: "en-US"}},
		{"browser-event", event.Event{UserAgent: uaChromeWindows, Platform: "Web", IP: "81.2.69.142", Language: "en-US"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ev := bc.ev
				e.Enrich(&ev)
			}
		})
	}
}

// BenchmarkEnrichUACacheMiss measures a user agent seen for the first time:
// parse plus cache insertion with eviction (the cache is kept full).
func BenchmarkEnrichUACacheMiss(b *testing.B) {
	e := newTestEnricher(b, Options{})
	uas := make([]string, 2*uaCacheSize)
	for i := range uas {
		uas[i] = fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.0 Safari/537.36", 100+i%60, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := event.Event{UserAgent: uas[i%len(uas)]}
		e.Enrich(&ev)
		i++
	}
}

// BenchmarkParseUA measures the user-agent library alone, for comparison
// with the cached path.
func BenchmarkParseUA(b *testing.B) {
	p := useragent.NewParser()
	b.ReportAllocs()
	b.SetBytes(int64(len(uaChromeWindows)))
	for b.Loop() {
		parseUA(p, uaChromeWindows)
	}
}
