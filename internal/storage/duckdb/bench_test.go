package duckdb

import (
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// unitEvents is the number of events per benchmark unit.
const unitEvents = 10_000

func sparseDemoEvent() event.Event {
	return event.Event{ProjectID: 1, EventType: "Play Song", DeviceID: "d", Time: 1, ClientEventTime: 1,
		ServerReceivedTime: 1, ServerUploadTime: 1, SessionID: event.NoSession, EventID: event.NoEventID}
}

// demoUnit returns a unit of demo-shaped events (Play Song with four
// event properties and a four-property user snapshot) starting at seq.
func demoUnit(seq int64) *storage.Unit { return demoUnitN(seq, unitEvents) }

// demoUnitN is demoUnit with n events.
func demoUnitN(seq int64, n int) *storage.Unit {
	genres := []string{"rock", "pop", "jazz", "hip-hop", "classical", "electronic"}
	sources := []string{"search", "playlist", "radio", "album"}
	plans := []string{"free", "premium", "family", "student"}
	countries := []string{"United States", "Germany", "Brazil", "India"}
	platforms := []string{"iOS", "Android", "Web"}
	u := &storage.Unit{Position: uint64(seq), Events: make([]event.Event, n),
		Dedup: make([]storage.DedupKey, n), Counters: map[string]int64{"seq": seq + int64(n)}}
	for i := range u.Events {
		s := seq + int64(i)
		user := s % 5000
		t := 1700000000000 + s*10
		u.Events[i] = event.Event{
			ProjectID: 1, EventType: "Play Song", UserID: fmt.Sprintf("user-%d", user),
			DeviceID: fmt.Sprintf("device-%d", user), Time: t, ClientEventTime: t, ClientUploadTime: t + 5,
			ServerReceivedTime: t + 20, ServerUploadTime: t + 30, SessionID: t - t%1800000, EventID: s % 100,
			InsertID: fmt.Sprintf("ins-%d", s),
			EventProperties: fmt.Appendf(nil, `{"genre":%q,"song_id":"song-%d","duration_ms":%d,"source":%q}`,
				genres[s%6], s*7919%50000, 120000+s%240000, sources[s/3%4]),
			UserProperties: fmt.Appendf(nil, `{"plan":%q,"country":%q,"platform":%q,"app_version":"2.%d.0"}`,
				plans[user%4], countries[user%4], platforms[user%3], user%20),
			AppVersion: "2.1.0", Platform: platforms[user%3], OSName: "ios", OSVersion: "17.1",
			DeviceModel: "iPhone15,2", Country: countries[user%4], City: "Berlin", Language: "en",
			IP: "192.0.2.1", Library: "amplitude-ts/2.0", AmplitudeID: user + 1, Seq: s,
		}
		u.Dedup[i] = storage.DedupKey{Hash: [16]byte{byte(s), byte(s >> 8), byte(s >> 16), byte(s >> 24)}, Time: t + 20}
	}
	return u
}

// BenchmarkApply applies demo-shaped units of 10K events (with their
// dedup keys, counters and position) and reports events/s. The larger
// size shows the effect of DuckDB writing whole row groups (122,880 rows)
// straight to the file instead of through its WAL.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{unitEvents, 131072} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) { benchmarkApply(b, n, true, 0, 1) })
	}
	// With two DuckDB threads, as crest serve runs on this machine: the
	// INSERT's single task may run on DuckDB's worker while the calling
	// thread waits for it (writer.go).
	b.Run("events=131072/threads=2", func(b *testing.B) { benchmarkApply(b, 131072, true, 0, 2) })
	// Events only, no dedup keys: the same rows as the Appender baseline.
	b.Run(fmt.Sprintf("events=%d/nodedup", unitEvents), func(b *testing.B) { benchmarkApply(b, unitEvents, false, 0, 1) })
	// Without promoted property columns (promote.go): their cost is the
	// ratio to events=131072.
	b.Run("events=131072/nopromote", func(b *testing.B) { benchmarkApply(b, 131072, true, -1, 1) })
}

func benchmarkApply(b *testing.B, size int, dedup bool, promoteAfter int64, threads int) {
	db, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.duckdb"), Options{Threads: threads, PromoteAfter: promoteAfter})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	units := make([]*storage.Unit, max(1, 80_000/size))
	for i := range units {
		units[i] = demoUnitN(int64(i*size), size)
		if !dedup {
			units[i].Dedup = nil
		}
	}
	b.ReportAllocs()
	n := 0
	cpu := cpuTime(b)
	for b.Loop() {
		u := units[n%len(units)]
		u.Position = uint64(n + 1)
		if err := db.Apply(b.Context(), u); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*size)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n*size)/(cpuTime(b)-cpu).Seconds(), "events/cpu-s")
	// Rows committed through DuckDB's WAL are compressed into the file at
	// the next checkpoint; count that work too for the sustained rate.
	if _, err := db.ExecContext(b.Context(), "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n*size)/(cpuTime(b)-cpu).Seconds(), "events/cpu-s+ckpt")
}

// BenchmarkAppenderBaseline appends the same event rows with DuckDB's
// row-wise Appender (outside any transaction), as the baseline for
// BenchmarkApply.
func BenchmarkAppenderBaseline(b *testing.B) {
	db, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.duckdb"), Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	units := make([]*storage.Unit, 8)
	for i := range units {
		units[i] = demoUnit(int64(i) * unitEvents)
	}
	conn, err := db.db.Conn(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ReportAllocs()
	n := 0
	cpu := cpuTime(b)
	row := make([]driver.Value, len(eventColumns))
	for b.Loop() {
		err := conn.Raw(func(dc any) error {
			a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "events")
			if err != nil {
				return err
			}
			for i := range units[n%len(units)].Events {
				eventRow(row, &units[n%len(units)].Events[i])
				if err := a.AppendRow(row...); err != nil {
					a.Close()
					return err
				}
			}
			return a.Close()
		})
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*unitEvents)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n*unitEvents)/(cpuTime(b)-cpu).Seconds(), "events/cpu-s")
}

// eventRow fills row with e's column values in table order, for the
// Appender baseline.
func eventRow(row []driver.Value, e *event.Event) {
	str := func(s string) driver.Value {
		if s == "" {
			return nil
		}
		return s
	}
	js := func(b []byte) driver.Value {
		if b == nil {
			return nil
		}
		return string(b)
	}
	fp := func(f *float64) driver.Value {
		if f == nil {
			return nil
		}
		return *f
	}
	var q driver.Value
	if e.Quantity != nil {
		q = *e.Quantity
	}
	var eid driver.Value = e.EventID
	if e.EventID == event.NoEventID {
		eid = nil
	}
	var cut driver.Value = e.ClientUploadTime
	if e.ClientUploadTime == 0 {
		cut = nil
	}
	copy(row, []driver.Value{e.ProjectID, e.Time, e.Seq, e.AmplitudeID, e.EventType, str(e.UserID), str(e.DeviceID),
		e.SessionID, eid, str(e.InsertID), e.ClientEventTime, cut, e.ServerReceivedTime, e.ServerUploadTime,
		js(e.EventProperties), js(e.UserProperties), js(e.UserPropertyOps), js(e.Groups), js(e.GroupProperties),
		str(e.AppVersion), str(e.StartVersion), str(e.Platform), str(e.OSName), str(e.OSVersion),
		str(e.DeviceBrand), str(e.DeviceManufacturer), str(e.DeviceModel), str(e.DeviceType), str(e.DeviceFamily),
		str(e.Carrier), str(e.Browser), str(e.Country), str(e.Region), str(e.City), str(e.DMA), str(e.Language),
		fp(e.LocationLat), fp(e.LocationLng), str(e.IP), str(e.UserAgent), fp(e.Price), q, fp(e.Revenue),
		str(e.ProductID), str(e.RevenueType), str(e.Currency), str(e.IDFA), str(e.IDFV), str(e.ADID),
		str(e.AndroidID), str(e.AndroidAppSetID), str(e.Library), js(e.Plan), js(e.IngestionMetadata),
		str(e.PartnerID), str(e.Paying)})
}

// cpuTime returns the user+system CPU time of the process so far: on a
// shared machine events per CPU-second is steadier than per wall second.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInsertSelectBaseline copies the same 10K event rows from a
// DuckDB in-memory temp table into events, one transaction per copy:
// DuckDB's own insert and commit cost, with no Go-side transfer. It is
// the floor for BenchmarkApply.
func BenchmarkInsertSelectBaseline(b *testing.B) {
	db, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.duckdb"), Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := b.Context()
	if err := db.Apply(ctx, demoUnit(0)); err != nil {
		b.Fatal(err)
	}
	conn, err := db.db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE staged AS SELECT * FROM events"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	cpu := cpuTime(b)
	for b.Loop() {
		if _, err := conn.ExecContext(ctx, "BEGIN; INSERT INTO events SELECT * FROM staged; COMMIT"); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*unitEvents)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n*unitEvents)/(cpuTime(b)-cpu).Seconds(), "events/cpu-s")
}
