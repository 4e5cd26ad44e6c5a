//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/demo"
)

// benchEvents is the number of demo events the ingestion benchmark sends
// (CREST_BENCH_EVENTS, default 1,000,000).
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("CREST_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// demoBodies pre-builds /batch request bodies of demo events so that the
// benchmark measures the server, not the generator.
func demoBodies(tb testing.TB, events, batch int) [][]byte {
	var bodies [][]byte
	err := demo.Generate(context.Background(), demo.Options{Events: events, Seed: 7, Days: 90, Now: time.Now()}, batch,
		func(evs []json.RawMessage) error {
			var b bytes.Buffer
			b.WriteString(`{"api_key":"` + testAPIKey + `","events":[`)
			for i, e := range evs {
				if i > 0 {
					b.WriteByte(',')
				}
				b.Write(e)
			}
			b.WriteString(`]}`)
			bodies = append(bodies, b.Bytes())
			return nil
		})
	if err != nil {
		tb.Fatal(err)
	}
	return bodies
}

type readyz struct {
	Status     string `json:"status"`
	WALDurable uint64 `json:"wal_durable"`
	Applied    uint64 `json:"applied"`
}

func getReadyz(tb testing.TB, url string) readyz {
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var r readyz
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		tb.Fatal(err)
	}
	return r
}

// BenchmarkIngestBatch measures durable end-to-end ingestion through
// /batch with demo-shaped events: every answer is a 200 sent after fsync.
// It reports events/s, the p50/p99 latency of an acknowledgement, and the
// time from the last acknowledgement until everything is applied to the
// store (queryable).
func BenchmarkIngestBatch(b *testing.B) {
	const batch, clients = 1000, 16
	bodies := demoBodies(b, benchEvents(), batch)
	totalEvents := 0
	for range bodies {
		totalEvents += batch
	}
	for i := 0; i < b.N; i++ {
		srv := startServer(b, b.TempDir())
		lat := make([]time.Duration, len(bodies))
		next := make(chan int)
		var wg sync.WaitGroup
		start := time.Now()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range next {
					t0 := time.Now()
					code, ans, err := post(context.Background(), srv.URL+"/batch", "application/json", bodies[j])
					if err != nil || code != 200 || ans.Code != 200 {
						b.Errorf("batch %d: %d %+v %v", j, code, ans, err)
						return
					}
					lat[j] = time.Since(t0)
				}
			}()
		}
		for j := range bodies {
			next <- j
		}
		close(next)
		wg.Wait()
		elapsed := time.Since(start)
		target := getReadyz(b, srv.URL).WALDurable
		for getReadyz(b, srv.URL).Applied < target {
			time.Sleep(5 * time.Millisecond)
		}
		lag := time.Since(start) - elapsed
		slices.Sort(lat)
		b.ReportMetric(float64(totalEvents)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ack-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ack-ms")
		b.ReportMetric(float64(lag.Milliseconds()), "queryable-after-ms")
		srv.stop()
	}
}

// BenchmarkQueryableLag sends demo batches at a steady, normal load
// (CREST_BENCH_RATE events/s, default 20,000) and measures, for every
// acknowledged batch, the time from its 200 until the pipeline has applied
// it to the store, where queries see it.
func BenchmarkQueryableLag(b *testing.B) {
	const batch = 1000
	rate := 20_000
	if n, err := strconv.Atoi(os.Getenv("CREST_BENCH_RATE")); err == nil && n > 0 {
		rate = n
	}
	bodies := demoBodies(b, 200_000, batch)
	for i := 0; i < b.N; i++ {
		srv := startServer(b, b.TempDir())
		interval := time.Second * batch / time.Duration(rate)
		var lags []time.Duration
		start := time.Now()
		tick := time.NewTicker(interval)
		for j := range bodies {
			<-tick.C
			code, ans, err := post(context.Background(), srv.URL+"/batch", "application/json", bodies[j])
			acked := time.Now()
			if err != nil || code != 200 || ans.Code != 200 {
				b.Fatalf("batch %d: %d %+v %v", j, code, ans, err)
			}
			target := getReadyz(b, srv.URL).WALDurable
			for getReadyz(b, srv.URL).Applied < target {
				time.Sleep(2 * time.Millisecond)
			}
			lags = append(lags, time.Since(acked))
		}
		tick.Stop()
		// The sender waits for each batch to apply, so the load it offers
		// is at most the target rate; the achieved rate is reported.
		b.ReportMetric(float64(len(bodies)*batch)/time.Since(start).Seconds(), "events/s")
		slices.Sort(lags)
		b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-queryable-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-queryable-ms")
		b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "max-queryable-ms")
		srv.stop()
	}
}
