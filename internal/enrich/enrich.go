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
		// Pointers tell an absent coordinate from 0; they become the
		// event's LocationLat/LocationLng as they are.
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
	var rec cityRecord
	if err := res.Decode(&rec); err != nil {
		return
	}
	ev.Country = rec.Country.Names.En
	if len(rec.Subdivisions) > 0 {
		ev.Region = rec.Subdivisions[0].Names.En
	}
	ev.City = rec.City.Names.En
	if ev.LocationLat == nil && ev.LocationLng == nil &&
		rec.Location.Latitude != nil && rec.Location.Longitude != nil {
		ev.LocationLat = rec.Location.Latitude
		ev.LocationLng = rec.Location.Longitude
	}
}
