package enrich

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/crest-analytics/crest/internal/event"
)

// Options configures an Enricher.
type Options struct {
	// GeoIPDB is the path of a MaxMind-format city database (.mmdb), such as
	// GeoLite2-City or DB-IP's IP-to-City Lite. Empty: no GeoIP enrichment.
	GeoIPDB string
}

// Enricher derives device and location fields of events. It is safe for
// concurrent use; Close must not be called while Enrich calls are running.
type Enricher struct {
	ua  *uaParser
	geo *maxminddb.Reader // nil without a GeoIP database
	// places caches decoded GeoIP records by their offset in the database:
	// the addresses of one network share a record, and a user's events
	// repeat one address.
	places *lru[uintptr, *place]
}

// placeCacheSize bounds the GeoIP record cache. An entry is ~100 bytes
// (three short names and two coordinates), so 8192 entries stay under
// 1 MiB. Decoding a GeoLite2-City record costs a few microseconds and
// four allocations; a cache hit costs about one UA-cache lookup.
const placeCacheSize = 8192

// place is the decoded location of one GeoIP record.
type place struct {
	country, region, city string
	lat, lng              float64
	hasCoords             bool
}

// New builds an Enricher. With opts.GeoIPDB set it opens (memory-maps) that
// database and fails, naming the file, when it is missing or not a valid
// MaxMind DB.
func New(opts Options) (*Enricher, error) {
	e := &Enricher{ua: newUAParser(uaCacheSize)}
	if opts.GeoIPDB != "" {
		r, err := maxminddb.Open(opts.GeoIPDB)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) { // names the file already
				return nil, fmt.Errorf("geoip database: %w", err)
			}
			return nil, fmt.Errorf("geoip database %s is not a valid MaxMind DB: %w", opts.GeoIPDB, err)
		}
		e.geo = r
		e.places = newLRU[uintptr, *place](placeCacheSize)
	}
	return e, nil
}

// Close releases the GeoIP database. The Enricher must not be used after.
func (e *Enricher) Close() error {
	if e.geo == nil {
		return nil
	}
	err := e.geo.Close()
	e.geo = nil
	if err != nil {
		return fmt.Errorf("close geoip database: %w", err)
	}
	return nil
}

// Enrich fills in the fields of ev that the client did not send: the
// device block from ev.UserAgent, the location block from ev.IP, and the
// language name from a language tag. Fields already set are never changed,
// except that a recognised language tag is replaced by its English name.
func (e *Enricher) Enrich(ev *event.Event) {
	if ev.UserAgent != "" && !hasDeviceBlock(ev) {
		e.ua.parse(ev.UserAgent).apply(ev)
	}
	if e.geo != nil && ev.IP != "" && !hasLocationBlock(ev) {
		e.locate(ev)
	}
	if ev.Language != "" {
		ev.Language = LanguageName(ev.Language)
	}
}

// hasDeviceBlock reports whether the client sent any field of the device
// block (spec §1.2: the block is set together).
func hasDeviceBlock(ev *event.Event) bool {
	return ev.OSName != "" || ev.OSVersion != "" || ev.DeviceModel != "" ||
		ev.DeviceBrand != "" || ev.DeviceManufacturer != "" || ev.DeviceType != ""
}

// hasLocationBlock reports whether the client sent any field of the
// location block (spec §1.2: if sent, GeoIP is not applied).
func hasLocationBlock(ev *event.Event) bool {
	return ev.Country != "" || ev.Region != "" || ev.City != "" || ev.DMA != ""
}

// cityRecord is the part of a GeoIP2/GeoLite2-City (or DB-IP City) record
// that Crest uses. Decoding into structs skips every other key.
type cityRecord struct {
	City struct {
		Names englishName `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		Names englishName `maxminddb:"names"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		Names englishName `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	Location struct {
		// Pointers tell an absent coordinate from 0.
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

type englishName struct {
	En string `maxminddb:"en"`
}

// locate looks ev.IP up and fills the location block. An address that is
// not valid, not in the database (private, loopback) or whose record does
// not decode leaves ev unchanged: enrichment never rejects an event.
func (e *Enricher) locate(ev *event.Event) {
	addr, err := netip.ParseAddr(ev.IP)
	if err != nil {
		return
	}
	res := e.geo.Lookup(addr.Unmap())
	if !res.Found() {
		return
	}
	p, ok := e.places.get(res.Offset())
	if !ok {
		var rec cityRecord
		if err := res.Decode(&rec); err != nil {
			return
		}
		p = &place{country: rec.Country.Names.En, city: rec.City.Names.En}
		if len(rec.Subdivisions) > 0 {
			p.region = rec.Subdivisions[0].Names.En
		}
		if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
			p.lat, p.lng, p.hasCoords = *rec.Location.Latitude, *rec.Location.Longitude, true
		}
		e.places.add(res.Offset(), p)
	}
	ev.Country, ev.Region, ev.City = p.country, p.region, p.city
	if p.hasCoords && ev.LocationLat == nil && ev.LocationLng == nil {
		// One allocation for both; each event owns its coordinates.
		c := &[2]float64{p.lat, p.lng}
		ev.LocationLat, ev.LocationLng = &c[0], &c[1]
	}
}
