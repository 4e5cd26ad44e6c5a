package main

import (
	"fmt"

	"github.com/crest-analytics/crest/internal/config"
	"github.com/crest-analytics/crest/internal/enrich"
)

// newEnricher builds the user-agent and GeoIP enrichment of ingestion.
func newEnricher(cfg *config.Config) (*enrich.Enricher, error) {
	e, err := enrich.New(enrich.Options{GeoIPDB: cfg.GeoIPDB})
	if err != nil {
		return nil, fmt.Errorf("open geoip database: %w", err)
	}
	return e, nil
}
