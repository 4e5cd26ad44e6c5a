package enrich

import (
	"testing"

	"github.com/crest-analytics/crest/internal/event"
)

// FuzzEnrich checks that Enrich accepts any input without panicking, that
// it only fills fields (never clears one the client sent) and that a
// second Enrich of its output changes nothing.
func FuzzEnrich(f *testing.F) {
	for _, s := range []struct{ ua, ip, lang string }{
		{uaChromeWindows, "81.2.69.142", "en-US"},
		{uaSafariIPhone, "2a02:d140::1", "de"},
		{uaAndroidTablet, "::ffff:81.2.69.1", "pt_BR"},
		{uaWindows7IE, "10.0.0.1", "English"},
		{"Mozilla/5.0 (Windows NT ", "$remote", "-"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS _._ like", "1.2.3.4%eth0", "zz-ZZ-zz"},
		{"Android Mac OS X Windows NT rv:", "", ""},
	} {
		f.Add(s.ua, s.ip, s.lang)
	}
	e := newTestEnricher(f, Options{GeoIPDB: writeCityDB(f)})
	f.Fuzz(func(t *testing.T, ua, ip, lang string) {
		ev := event.Event{UserAgent: ua, IP: ip, Language: lang}
		e.Enrich(&ev)
		if ev.UserAgent != ua || ev.IP != ip {
			t.Fatalf("user agent or ip changed: %q, %q", ev.UserAgent, ev.IP)
		}
		if lang != "" && ev.Language == "" {
			t.Fatalf("language %q cleared", lang)
		}
		once := ev
		e.Enrich(&ev)
		if deviceOf(&ev) != deviceOf(&once) || locationOf(&ev) != locationOf(&once) || ev.Language != once.Language {
			t.Fatalf("second Enrich changed the event:\n once %+v %+v %q\ntwice %+v %+v %q",
				deviceOf(&once), locationOf(&once), once.Language, deviceOf(&ev), locationOf(&ev), ev.Language)
		}
	})
}
