package demo

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testAPIKey = "test-api-key-123"

// fakeBatch answers like Amplitude's /batch: 200 with events_ingested for a
// good body, 400 with the documented errors otherwise. fail, when set,
// may answer a request first (return a status other than 0).
type fakeBatch struct {
	fail func(n int, insertIDs []string) int

	mu       sync.Mutex
	requests int
	events   []string            // acknowledged events, raw JSON
	rejected map[string][]string // insert_ids of failed attempts, by first insert_id
}

type batchBody struct {
	APIKey           string            `json:"api_key"`
	Events           []json.RawMessage `json:"events"`
	ClientUploadTime string            `json:"client_upload_time"`
	Options          map[string]any    `json:"options"`
}

func (f *fakeBatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/batch" {
		answer(http.StatusNotFound, `{"code":404,"error":"not found"}`)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			answer(http.StatusBadRequest, `{"code":400,"error":"Invalid JSON request body"}`)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var req batchBody
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil {
		answer(http.StatusBadRequest, `{"code":400,"error":"Invalid JSON request body"}`)
		return
	}
	if req.APIKey != testAPIKey {
		answer(http.StatusBadRequest, fmt.Sprintf(`{"code":400,"error":"Invalid API key: %s"}`, req.APIKey))
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ClientUploadTime); err != nil || len(req.Events) == 0 || len(req.Events) > MaxBatch {
		answer(http.StatusBadRequest, `{"code":400,"error":"bad request"}`)
		return
	}
	ids := make([]string, len(req.Events))
	for i, e := range req.Events {
		var ev struct {
			InsertID string `json:"insert_id"`
		}
		if err := json.Unmarshal(e, &ev); err != nil {
			answer(http.StatusBadRequest, `{"code":400,"error":"Invalid JSON request body"}`)
			return
		}
		ids[i] = ev.InsertID
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if f.fail != nil {
		if code := f.fail(f.requests, ids); code != 0 {
			if f.rejected == nil {
				f.rejected = map[string][]string{}
			}
			f.rejected[ids[0]] = ids
			answer(code, fmt.Sprintf(`{"code":%d,"error":"try again"}`, code))
			return
		}
	}
	for _, e := range req.Events {
		f.events = append(f.events, string(e))
	}
	answer(http.StatusOK, fmt.Sprintf(`{"code":200,"events_ingested":%d,"payload_size_bytes":%d,"server_upload_time":%d}`,
		len(req.Events), len(raw), time.Now().UnixMilli()))
}

func (f *fakeBatch) sorted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(slices.Values(f.events))
}

func startFake(t *testing.T, fail func(int, []string) int) (*fakeBatch, string) {
	t.Helper()
	f := &fakeBatch{fail: fail}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

var fastRetry = retryPolicy{base: time.Millisecond, max: 5 * time.Millisecond, maxAttempts: 4}

func TestSendSameEventsWhateverTheConcurrency(t *testing.T) {
	gen := Options{Events: 5000, Seed: 3, Days: 30, Now: testNow}
	var want []string
	for _, e := range bytes.Split(bytes.TrimSuffix(generateAll(t, gen, 1000), []byte{'\n'}), []byte{'\n'}) {
		want = append(want, string(e))
	}
	slices.Sort(want)

	for _, tc := range []struct {
		concurrency, batch int
		gzip               bool
	}{
		{1, 1000, false},
		{4, 300, true},
		{3, 2000, true},
	} {
		t.Run(fmt.Sprintf("c%d-b%d-gzip%v", tc.concurrency, tc.batch, tc.gzip), func(t *testing.T) {
			f, url := startFake(t, nil)
			st, err := sendWith(t.Context(), gen, SendOptions{
				URL: url, APIKey: testAPIKey, Concurrency: tc.concurrency, Batch: tc.batch, Gzip: tc.gzip, Progress: io.Discard,
			}, fastRetry)
			if err != nil {
				t.Fatal(err)
			}
			wantRequests := int64((gen.Events + tc.batch - 1) / tc.batch)
			if st.Events != int64(gen.Events) || st.Requests != wantRequests || st.Retries != 0 || st.Bytes == 0 {
				t.Errorf("stats %+v, want %d events in %d requests", st, gen.Events, wantRequests)
			}
			if got := f.sorted(); !slices.Equal(got, want) {
				t.Errorf("server received %d events differing from Generate's %d", len(got), len(want))
			}
		})
	}
}

func TestSendRetriesWithSameInsertIDs(t *testing.T) {
	f, url := startFake(t, func(n int, _ []string) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	gen := Options{Events: 1500, Seed: 5, Now: testNow}
	st, err := sendWith(t.Context(), gen, SendOptions{URL: url, APIKey: testAPIKey, Concurrency: 1, Batch: 500, Gzip: true}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 1500 || st.Retries != 1 || st.Requests != 3 {
		t.Errorf("stats %+v, want 1500 events, 3 requests, 1 retry", st)
	}
	if len(f.rejected) != 1 {
		t.Fatalf("%d failed requests recorded, want 1", len(f.rejected))
	}
	acked := map[string]bool{}
	for _, e := range f.sorted() {
		var ev struct {
			InsertID string `json:"insert_id"`
		}
		if err := json.Unmarshal([]byte(e), &ev); err != nil {
			t.Fatal(err)
		}
		acked[ev.InsertID] = true
	}
	for _, ids := range f.rejected {
		for _, id := range ids {
			if !acked[id] {
				t.Fatalf("insert_id %s of the failed request was not resent", id)
			}
		}
	}
	if len(acked) != 1500 {
		t.Errorf("%d distinct insert_ids acknowledged, want 1500", len(acked))
	}
}

func TestSendStopsOnRejection(t *testing.T) {
	_, url := startFake(t, nil)
	st, err := sendWith(t.Context(), Options{Events: 10_000, Now: testNow},
		SendOptions{URL: url + "/", APIKey: "wrong-key", Concurrency: 2, Batch: 100}, fastRetry)
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("got %v, want a RejectedError", err)
	}
	if rej.Status != http.StatusBadRequest || !strings.Contains(rej.Body, "Invalid API key: wrong-key") ||
		!strings.Contains(err.Error(), "Invalid API key: wrong-key") {
		t.Errorf("got %d %q", rej.Status, rej.Body)
	}
	if st.Events != 0 || st.Retries != 0 {
		t.Errorf("stats %+v, want nothing sent and no retry", st)
	}
}

func TestSendGivesUpOnDeadServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	st, err := sendWith(t.Context(), Options{Events: 10, Now: testNow},
		SendOptions{URL: url, APIKey: testAPIKey, Concurrency: 1, Batch: 10}, fastRetry)
	if err == nil || !strings.Contains(err.Error(), "giving up after 4 attempts") {
		t.Fatalf("got %v, want giving up after 4 attempts", err)
	}
	if st.Retries != 3 || st.Events != 0 {
		t.Errorf("stats %+v, want 3 retries and nothing sent", st)
	}
}

func TestSendValidatesOptions(t *testing.T) {
	gen := Options{Events: 10, Now: testNow}
	for _, so := range []SendOptions{
		{URL: "http://127.0.0.1:1"},
		{APIKey: "k", Batch: MaxBatch + 1},
		{APIKey: "k", Concurrency: -1},
	} {
		if _, err := Send(t.Context(), gen, so); err == nil {
			t.Errorf("Send accepted %+v", so)
		}
	}
}

func TestBatchURL(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := batchURL(in); got != want {
			t.Errorf("batchURL(%q) = %q, want %q", in, got, want)
		}
	}
	f("http://127.0.0.1:8080", "http://127.0.0.1:8080/batch")
	f("http://127.0.0.1:8080/", "http://127.0.0.1:8080/batch")
	f("https://crest.example.com/ingest", "https://crest.example.com/ingest/batch")
	f("http://h/batch", "http://h/batch")
	f("http://h/2/httpapi", "http://h/2/httpapi")
}

func TestRenderProgress(t *testing.T) {
	f := func(sent, total int64, elapsed time.Duration, bar bool, want string) {
		t.Helper()
		if got := renderProgress(sent, total, elapsed, bar); got != want {
			t.Errorf("renderProgress(%d, %d, %v, %v) = %q, want %q", sent, total, elapsed, bar, got, want)
		}
	}
	f(0, 1000, 0, false, "0 / 1,000 events (0.0%)  0 events/s")
	f(250_000, 1_000_000, 5*time.Second, false, "250,000 / 1,000,000 events (25.0%)  50,000 events/s  ETA 15s")
	f(500, 1000, time.Second, true, "[###############---------------] 500 / 1,000 events (50.0%)  500 events/s  ETA 1s")
	f(1000, 1000, 2*time.Second, true, "[##############################] 1,000 / 1,000 events (100.0%)  500 events/s")
}

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 123456: "123,456", 1234567: "1,234,567", -1234: "-1,234",
	} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestProgressWritesLines(t *testing.T) {
	var buf bytes.Buffer
	_, url := startFake(t, nil)
	st, err := Send(t.Context(), Options{Events: 100, Now: testNow}, SendOptions{URL: url, APIKey: testAPIKey, Batch: 50, Progress: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 100 || !strings.Contains(buf.String(), "100 / 100 events (100.0%)") || strings.Contains(buf.String(), "\r") {
		t.Errorf("stats %+v, progress %q", st, buf.String())
	}
}
