package clickhouse

import (
	"fmt"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// benchUnit returns a unit of n demo-shaped events (Play Song with four
// event properties and a four-property user snapshot) starting at seq,
// as the DuckDB backend's BenchmarkApply uses.
func benchUnit(seq int64, n int) *storage.Unit {
	genres := []string{"rock", "pop", "jazz", "hip-hop", "classical", "electronic"}
	plans := []string{"free", "premium", "family", "student"}
	u := &storage.Unit{Position: uint64(seq + int64(n)), Events: make([]event.Event, n),
		Dedup: make([]storage.DedupKey, n), Counters: map[string]int64{"next_seq": seq + int64(n)}}
	for i := range u.Events {
		s := seq + int64(i)
		user := s % 5000
		t := 1700000000000 + s*10
		u.Events[i] = event.Event{
			ProjectID: 1, EventType: "Play Song", UserID: fmt.Sprintf("user-%d", user),
			DeviceID: fmt.Sprintf("device-%d", user), Time: t, ClientEventTime: t, ClientUploadTime: t + 5,
			ServerReceivedTime: t + 20, ServerUploadTime: t + 30, SessionID: t - t%1800000, EventID: s % 100,
			InsertID:        fmt.Sprintf("ins-%d", s),
			EventProperties: fmt.Appendf(nil, `{"genre":%q,"song_id":"song-%d","duration_ms":%d}`, genres[s%6], s*7919%50000, 120000+s%240000),
			UserProperties:  fmt.Appendf(nil, `{"plan":%q}`, plans[user%4]),
			AppVersion:      "2.1.0", Platform: "iOS", OSName: "ios", Country: "Germany", City: "Berlin",
			Library: "amplitude-ts/2.0", AmplitudeID: user + 1, Seq: s,
		}
		u.Dedup[i] = storage.DedupKey{Hash: [16]byte{byte(s), byte(s >> 8), byte(s >> 16), byte(s >> 24)}, Time: t + 20}
	}
	return u
}

// BenchmarkApply applies units of 10K events with their dedup keys to
// the ClickHouse named by CREST_TEST_CLICKHOUSE.
func BenchmarkApply(b *testing.B) {
	o := benchOptions(b)
	db, err := Open(b.Context(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 10_000
	units := make([]*storage.Unit, b.N)
	for i := range units {
		units[i] = benchUnit(int64(i)*n+1, n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := db.Apply(b.Context(), units[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}
