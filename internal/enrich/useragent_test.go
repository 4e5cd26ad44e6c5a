package enrich

import (
	"fmt"
	"sync"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
)

const (
	uaChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	uaSafariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
	uaSafariIPad    = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
	uaAndroidPhone  = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"
	uaAndroidTablet = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaFirefoxLinux  = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
	uaSafariMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	uaChromeOS      = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaGooglebot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaWindows7IE    = "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko"
)

// deviceFields is the device part of an event that enrichment may touch.
type deviceFields struct {
	OSName, OSVersion, DeviceType, DeviceFamily, Browser string
	DeviceModel, DeviceBrand, DeviceManufacturer         string
}

func deviceOf(ev *event.Event) deviceFields {
	return deviceFields{
		OSName: ev.OSName, OSVersion: ev.OSVersion, DeviceType: ev.DeviceType,
		DeviceFamily: ev.DeviceFamily, Browser: ev.Browser,
		DeviceModel: ev.DeviceModel, DeviceBrand: ev.DeviceBrand, DeviceManufacturer: ev.DeviceManufacturer,
	}
}

func newTestEnricher(t testing.TB, opts Options) *Enricher {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func TestEnrichUserAgent(t *testing.T) {
	e := newTestEnricher(t, Options{})
	for _, tc := range []struct {
		name string
		ua   string
		want deviceFields
	}{
		{"chrome windows", uaChromeWindows, deviceFields{OSName: "Windows", OSVersion: "10", DeviceType: "Desktop", DeviceFamily: "Windows PC", Browser: "Chrome 156"}},
		{"safari iphone", uaSafariIPhone, deviceFields{OSName: "iOS", OSVersion: "17.4.1", DeviceType: "Mobile", DeviceFamily: "Apple iPhone", Browser: "Safari 17"}},
		{"safari ipad", uaSafariIPad, deviceFields{OSName: "iOS", OSVersion: "16.6", DeviceType: "Tablet", DeviceFamily: "Apple iPad", Browser: "Safari 16"}},
		{"android phone", uaAndroidPhone, deviceFields{OSName: "Android", OSVersion: "14", DeviceType: "Mobile", DeviceFamily: "Android Phone", Browser: "Chrome 124"}},
		{"android tablet", uaAndroidTablet, deviceFields{OSName: "Android", OSVersion: "13", DeviceType: "Tablet", DeviceFamily: "Android Tablet", Browser: "Chrome 120"}},
		{"firefox linux", uaFirefoxLinux, deviceFields{OSName: "Linux", DeviceType: "Desktop", DeviceFamily: "Linux PC", Browser: "Firefox 125"}},
		{"safari mac", uaSafariMac, deviceFields{OSName: "macOS", OSVersion: "10.15.7", DeviceType: "Desktop", DeviceFamily: "Apple Mac", Browser: "Safari 17"}},
		{"chromeos", uaChromeOS, deviceFields{OSName: "ChromeOS", DeviceType: "Desktop", DeviceFamily: "Chromebook", Browser: "Chrome 120"}},
		{"ie11 windows 7", uaWindows7IE, deviceFields{OSName: "Windows", OSVersion: "7", DeviceType: "Desktop", DeviceFamily: "Windows PC", Browser: "IE 11"}},
		{"googlebot", uaGooglebot, deviceFields{DeviceType: "Bot", DeviceFamily: "Bot"}},
		{"curl", "curl/8.5.0", deviceFields{DeviceType: "Bot", DeviceFamily: "Bot"}},
		{"garbage", "!!!garbage### \x00\xff", deviceFields{}},
		{"empty", "", deviceFields{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second parse is served from the cache.
			for i := range 2 {
				ev := &event.Event{UserAgent: tc.ua, Platform: "Web"}
				e.Enrich(ev)
				if got := deviceOf(ev); got != tc.want {
					t.Errorf("pass %d: Enrich(%q)\n got %+v\nwant %+v", i, tc.ua, got, tc.want)
				}
				if ev.Platform != "Web" || ev.UserAgent != tc.ua {
					t.Errorf("pass %d: platform %q, user agent %q changed", i, ev.Platform, ev.UserAgent)
				}
			}
		})
	}
}

func TestEnrichUserAgentClientWins(t *testing.T) {
	e := newTestEnricher(t, Options{})
	for _, tc := range []struct {
		name   string
		client deviceFields // sent by the client
		want   deviceFields
	}{
		// Any field of the device block stops the derivation (spec §1.2).
		{"os name", deviceFields{OSName: "MyOS"}, deviceFields{OSName: "MyOS"}},
		{"os version", deviceFields{OSVersion: "3"}, deviceFields{OSVersion: "3"}},
		{"device model", deviceFields{DeviceModel: "Pixel 8"}, deviceFields{DeviceModel: "Pixel 8"}},
		{"device brand", deviceFields{DeviceBrand: "Google"}, deviceFields{DeviceBrand: "Google"}},
		{"manufacturer", deviceFields{DeviceManufacturer: "Google"}, deviceFields{DeviceManufacturer: "Google"}},
		{"device type", deviceFields{DeviceType: "Kiosk"}, deviceFields{DeviceType: "Kiosk"}},
		// Family and browser are outside the block: derivation runs, but
		// the values the client sent are kept.
		{"family and browser", deviceFields{DeviceFamily: "Fridge", Browser: "Custom 1"},
			deviceFields{OSName: "Windows", OSVersion: "10", DeviceType: "Desktop", DeviceFamily: "Fridge", Browser: "Custom 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client
			ev := &event.Event{
				UserAgent: uaChromeWindows,
				OSName:    c.OSName, OSVersion: c.OSVersion, DeviceType: c.DeviceType,
				DeviceFamily: c.DeviceFamily, Browser: c.Browser,
				DeviceModel: c.DeviceModel, DeviceBrand: c.DeviceBrand, DeviceManufacturer: c.DeviceManufacturer,
			}
			e.Enrich(ev)
			if got := deviceOf(ev); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestWindowsVersion(t *testing.T) {
	for nt, want := range map[string]string{
		"": "", "10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista", "5.1": "XP", "5.2": "XP", "4.0": "NT 4.0",
	} {
		if got := windowsVersion(nt); got != want {
			t.Errorf("windowsVersion(%q) = %q, want %q", nt, got, want)
		}
	}
}

func TestUAParserCacheBounded(t *testing.T) {
	u := newUAParser(8)
	first := u.parse(uaChromeWindows)
	if again := u.parse(uaChromeWindows); again != first {
		t.Errorf("second parse of the same UA was not served from the cache")
	}
	for i := range 100 {
		u.parse(fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", i, i))
	}
	if n := u.cache.len(); n != 8 {
		t.Errorf("cache holds %d entries after 101 distinct UAs, want 8", n)
	}
	if _, ok := u.cache.get(uaChromeWindows); ok {
		t.Errorf("least recently used UA still cached")
	}
	if d := u.parse("Mozilla/5.0 (X11; Linux x86_64; rv:99.0) Gecko/20100101 Firefox/99.0"); d.browser != "Firefox 99" {
		t.Errorf("browser = %q, want Firefox 99", d.browser)
	}
}

func TestEnrichConcurrent(t *testing.T) {
	e := newTestEnricher(t, Options{GeoIPDB: writeCityDB(t)})
	uas := []string{uaChromeWindows, uaSafariIPhone, uaAndroidPhone, uaFirefoxLinux, uaSafariMac}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				ua := uas[(g+i)%len(uas)]
				ev := &event.Event{UserAgent: ua, IP: fmt.Sprintf("81.2.69.%d", i%256)}
				e.Enrich(ev)
				if ev.OSName == "" || ev.Browser == "" || ev.City != "London" {
					errs <- fmt.Sprintf("UA %q, IP %s: got %+v, city %q", ua, ev.IP, deviceOf(ev), ev.City)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
