// Package enrich fills in the device and location fields of accepted events
// that the client left out: operating system, device type and family and
// browser from the user_agent string, country, region, city and coordinates
// from the IP address through a MaxMind-format (.mmdb) city database, and an
// English language name for a BCP-47 language tag.
//
// Fields the client sent always win: the device block is derived only when
// the event carries none of its fields, the location block only when the
// event carries none of country, region, city and dma (amplitude-compat
// spec §1.2). See docs/enrichment.md.
package enrich
