package demo

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkGenerate measures generation alone (one core), per event.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	opts := Options{Events: b.N, Seed: 1, Days: 90, Now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	var bytes int64
	b.ResetTimer()
	err := Generate(b.Context(), opts, 1000, func(events []json.RawMessage) error {
		for _, e := range events {
			bytes += int64(len(e))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(bytes)/float64(b.N), "B/event")
}
