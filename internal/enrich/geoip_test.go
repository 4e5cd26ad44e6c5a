package enrich

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/crest-analytics/crest/internal/event"
)

// names is a GeoIP2 "names" map with English and German entries.
func names(en, de string) mmdbtype.Map {
	return mmdbtype.Map{"en": mmdbtype.String(en), "de": mmdbtype.String(de)}
}

// writeCityDB builds a small GeoIP2-City-shaped database in a temporary
// directory and returns its path:
//
//	81.2.69.0/24     London, England, United Kingdom, 51.5142/-0.0931
//	2a02:d140::/32   Berlin, Land Berlin, Germany (no coordinates)
//	89.160.20.0/24   Sweden only (no subdivision, no city)
func writeCityDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "GeoLite2-City",
		Languages:    []string{"en", "de"},
		RecordSize:   28,
	})
	if err != nil {
		t.Fatalf("mmdbwriter.New: %v", err)
	}
	records := []struct {
		cidr string
		rec  mmdbtype.Map
	}{
		{"81.2.69.0/24", mmdbtype.Map{
			"city":         mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2643743), "names": names("London", "London")},
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String("GB"), "names": names("United Kingdom", "Vereinigtes Königreich")},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("ENG"), "names": names("England", "England")}},
			"location": mmdbtype.Map{
				"latitude": mmdbtype.Float64(51.5142), "longitude": mmdbtype.Float64(-0.0931),
				"time_zone": mmdbtype.String("Europe/London"), "accuracy_radius": mmdbtype.Uint16(10),
			},
		}},
		{"2a02:d140::/32", mmdbtype.Map{
			"city":         mmdbtype.Map{"names": names("Berlin", "Berlin")},
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String("DE"), "names": names("Germany", "Deutschland")},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"names": names("Land Berlin", "Berlin")}},
		}},
		{"89.160.20.0/24", mmdbtype.Map{
			"country": mmdbtype.Map{"iso_code": mmdbtype.String("SE"), "names": names("Sweden", "Schweden")},
		}},
	}
	for _, r := range records {
		_, network, err := net.ParseCIDR(r.cidr)
		if err != nil {
			t.Fatalf("parse %s: %v", r.cidr, err)
		}
		if err := tree.Insert(network, r.rec); err != nil {
			t.Fatalf("insert %s: %v", r.cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

type location struct {
	Country, Region, City, DMA string
	Lat, Lng                   float64 // 0 when absent
	HasLat, HasLng             bool
}

func locationOf(ev *event.Event) location {
	l := location{Country: ev.Country, Region: ev.Region, City: ev.City, DMA: ev.DMA}
	if ev.LocationLat != nil {
		l.Lat, l.HasLat = *ev.LocationLat, true
	}
	if ev.LocationLng != nil {
		l.Lng, l.HasLng = *ev.LocationLng, true
	}
	return l
}

func ptr(f float64) *float64 { return &f }

func TestEnrichGeoIP(t *testing.T) {
	e := newTestEnricher(t, Options{GeoIPDB: writeCityDB(t)})
	london := location{Country: "United Kingdom", Region: "England", City: "London", Lat: 51.5142, Lng: -0.0931, HasLat: true, HasLng: true}
	for _, tc := range []struct {
		name string
		ev   event.Event
		want location
	}{
		{"found", event.Event{IP: "81.2.69.142"}, london},
		{"found, ipv4-mapped ipv6", event.Event{IP: "::ffff:81.2.69.1"}, london},
		{"found ipv6, no coordinates", event.Event{IP: "2a02:d140::1"}, location{Country: "Germany", Region: "Land Berlin", City: "Berlin"}},
		{"country only", event.Event{IP: "89.160.20.7"}, location{Country: "Sweden"}},
		{"not in database", event.Event{IP: "8.8.8.8"}, location{}},
		{"private", event.Event{IP: "10.1.2.3"}, location{}},
		{"loopback", event.Event{IP: "127.0.0.1"}, location{}},
		{"loopback ipv6", event.Event{IP: "::1"}, location{}},
		{"unresolved $remote", event.Event{IP: "$remote"}, location{}},
		{"not an address", event.Event{IP: "81.2.69"}, location{}},
		{"no ip", event.Event{}, location{}},
		// Explicit location fields win: any one stops GeoIP (spec §1.2).
		{"explicit country", event.Event{IP: "81.2.69.142", Country: "France"}, location{Country: "France"}},
		{"explicit region", event.Event{IP: "81.2.69.142", Region: "Bavaria"}, location{Region: "Bavaria"}},
		{"explicit city", event.Event{IP: "81.2.69.142", City: "Paris"}, location{City: "Paris"}},
		{"explicit dma", event.Event{IP: "81.2.69.142", DMA: "New York"}, location{DMA: "New York"}},
		// Coordinates the client sent are kept; the names still come from GeoIP.
		{"explicit coordinates", event.Event{IP: "81.2.69.142", LocationLat: ptr(48.85), LocationLng: ptr(2.35)},
			location{Country: "United Kingdom", Region: "England", City: "London", Lat: 48.85, Lng: 2.35, HasLat: true, HasLng: true}},
		{"explicit latitude only", event.Event{IP: "81.2.69.142", LocationLat: ptr(48.85)},
			location{Country: "United Kingdom", Region: "England", City: "London", Lat: 48.85, HasLat: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second lookup is served from the record cache.
			for pass := range 2 {
				ev := tc.ev
				e.Enrich(&ev)
				if got := locationOf(&ev); got != tc.want {
					t.Errorf("pass %d: Enrich(ip %q)\n got %+v\nwant %+v", pass, tc.ev.IP, got, tc.want)
				}
			}
		})
	}
}

func TestEnrichGeoIPCoordinatesOwned(t *testing.T) {
	e := newTestEnricher(t, Options{GeoIPDB: writeCityDB(t)})
	a := &event.Event{IP: "81.2.69.142"}
	b := &event.Event{IP: "81.2.69.7"} // same network, cached record
	e.Enrich(a)
	e.Enrich(b)
	if a.LocationLat == nil || b.LocationLat == nil {
		t.Fatalf("coordinates missing: a %v, b %v", a.LocationLat, b.LocationLat)
	}
	*a.LocationLat = 0
	if *b.LocationLat != 51.5142 {
		t.Errorf("changing one event's latitude changed another's to %v", *b.LocationLat)
	}
}

func TestEnrichWithoutGeoIP(t *testing.T) {
	e := newTestEnricher(t, Options{})
	ev := &event.Event{IP: "81.2.69.142", UserAgent: uaChromeWindows}
	e.Enrich(ev)
	if got := locationOf(ev); got != (location{}) {
		t.Errorf("without a database: location %+v, want none", got)
	}
	if ev.OSName != "Windows" {
		t.Errorf("OSName = %q, want Windows", ev.OSName)
	}
}

func TestNewBadGeoIPDB(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		path string
	}{
		{"missing", filepath.Join(dir, "missing.mmdb")},
		{"empty", write("empty.mmdb", nil)},
		{"not a database", write("text.mmdb", []byte(strings.Repeat("this is not a MaxMind database\n", 100)))},
		{"truncated", func() string {
			good, err := os.ReadFile(writeCityDB(t))
			if err != nil {
				t.Fatal(err)
			}
			return write("truncated.mmdb", good[:len(good)/3])
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(Options{GeoIPDB: tc.path})
			if err == nil {
				e.Close()
				t.Fatalf("New(%s) succeeded, want an error", tc.path)
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name the file %s", err, tc.path)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	e, err := New(Options{GeoIPDB: writeCityDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := e.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
}
