//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/storage/duckdb"
)

// batchBody builds request body number n of sender g: size events with
// insert_ids unique to (g, n, i).
func batchBody(g, n, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"api_key":%q,"events":[`, testAPIKey)
	base := time.Now().Add(-time.Hour).UnixMilli()
	for i := 0; i < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"event_type":"Play Song","device_id":"device-%d-%d","time":%d,"insert_id":"ins-%d-%d-%d",`+
			`"session_id":%d,"event_properties":{"genre":"jazz","n":%d},"user_properties":{"plan":"free"}}`,
			g, i%25, base+int64(n*size+i), g, n, i, base, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// TestCrashRecoveryExactlyOnce sends batches concurrently, kills the
// server with SIGKILL mid-load, restarts it, resends every batch (the
// acknowledged ones as SDK retries would, the unacknowledged ones because
// they failed), and checks that every event is stored exactly once.
func TestCrashRecoveryExactlyOnce(t *testing.T) {
	const senders, batchSize = 6, 200
	dir := t.TempDir()
	srv := startServer(t, dir)

	type key struct{ g, n int }
	var (
		mu      sync.Mutex
		acked   = map[key]bool{}
		tried   = map[key]bool{}
		ackN    atomic.Int64
		stopped atomic.Bool
		wg      sync.WaitGroup
	)
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for n := 0; !stopped.Load() && n < 10000; n++ {
				mu.Lock()
				tried[key{g, n}] = true
				mu.Unlock()
				code, ans, err := post(context.Background(), srv.URL+"/batch", "application/json", batchBody(g, n, batchSize))
				if err != nil {
					return // the server is gone
				}
				if code != 200 || ans.Code != 200 || ans.EventsIngested != batchSize {
					t.Errorf("batch %d/%d: status %d answer %+v", g, n, code, ans)
					return
				}
				mu.Lock()
				acked[key{g, n}] = true
				mu.Unlock()
				ackN.Add(1)
			}
		}(g)
	}
	for ackN.Load() < 60 && !t.Failed() {
		time.Sleep(5 * time.Millisecond)
	}
	srv.kill()
	stopped.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("killed after %d acknowledged batches of %d tried", len(acked), len(tried))

	// After the restart, before anything is resent, every acknowledged
	// event must be stored exactly once.
	srv = startServer(t, dir)
	srv.stop()
	counts := storedInsertIDs(t, srv.Data)
	for k := range acked {
		for i := 0; i < batchSize; i++ {
			id := fmt.Sprintf("ins-%d-%d-%d", k.g, k.n, i)
			if counts[id] != 1 {
				t.Fatalf("acknowledged event %s stored %d times after the crash", id, counts[id])
			}
		}
	}
	for id, n := range counts {
		if n != 1 {
			t.Fatalf("event %s stored %d times", id, n)
		}
	}

	// SDKs resend what they could not see acknowledged, and sometimes what
	// was: both must end up stored exactly once.
	srv = startServer(t, dir)
	for k := range tried {
		code, ans, err := post(context.Background(), srv.URL+"/batch", "text/plain;charset=UTF-8", batchBody(k.g, k.n, batchSize))
		if err != nil || code != 200 || ans.Code != 200 {
			t.Fatalf("resend %v: %d %+v %v", k, code, ans, err)
		}
	}
	srv.stop()
	counts = storedInsertIDs(t, srv.Data)
	if len(counts) != len(tried)*batchSize {
		t.Fatalf("stored %d distinct events, want %d", len(counts), len(tried)*batchSize)
	}
	for id, n := range counts {
		if n != 1 {
			t.Fatalf("event %s stored %d times", id, n)
		}
	}
}

// storedInsertIDs opens the stopped server's event store and counts the
// stored events by insert_id.
func storedInsertIDs(t *testing.T, dataDir string) map[string]int {
	t.Helper()
	db, err := duckdb.Open(context.Background(), dataDir+"/events.duckdb", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT insert_id, count(*) FROM events WHERE event_type = 'Play Song' GROUP BY insert_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		counts[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}
