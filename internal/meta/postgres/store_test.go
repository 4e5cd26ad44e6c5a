package postgres

import (
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/meta/metatest"
)

// TestStore runs the meta.Store conformance suite (internal/meta/metatest).
func TestStore(t *testing.T) {
	metatest.Run(t, func(t *testing.T, now func() time.Time) meta.Store {
		t.Helper()
		s, err := Open(t.Context(), testDSN(t), WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopenKeepsSchemaVersion(t *testing.T) {
	path := testDSN(t)
	for range 2 {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.SchemaVersion(t.Context())
		if err != nil || v != len(migrations) {
			t.Fatalf("schema version = %d, %v; want %d", v, err, len(migrations))
		}
		s.Close()
	}
}
