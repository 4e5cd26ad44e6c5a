package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// batchSink answers /batch like Crest, accepting only apiKey, and counts
// the events it acknowledged.
func batchSink(t *testing.T, apiKey string) (*atomic.Int64, string) {
	t.Helper()
	var events atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, `{"code":400,"error":"Invalid JSON request body"}`, http.StatusBadRequest)
				return
			}
			body = zr
		}
		var req struct {
			APIKey string            `json:"api_key"`
			Events []json.RawMessage `json:"events"`
		}
		if err := json.NewDecoder(body).Decode(&req); err != nil || r.URL.Path != "/batch" {
			http.Error(w, `{"code":400,"error":"Invalid JSON request body"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if req.APIKey != apiKey {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code":400,"error":"Invalid API key: `+req.APIKey+`"}`)
			return
		}
		events.Add(int64(len(req.Events)))
		io.WriteString(w, `{"code":200,"events_ingested":1,"payload_size_bytes":1,"server_upload_time":1}`)
	}))
	t.Cleanup(srv.Close)
	return &events, srv.URL
}

func TestDemoSends(t *testing.T) {
	got, url := batchSink(t, "demo-key-1")
	t.Setenv("CREST_URL", url)
	t.Setenv("CREST_API_KEY", "demo-key-1")
	var stdout, stderr bytes.Buffer
	if err := runDemo(t.Context(), []string{"--events", "3000", "--batch", "500", "--seed", "9", "--days", "14"}, &stdout, &stderr); err != nil {
		t.Fatalf("runDemo: %v\n%s", err, stderr.String())
	}
	if got.Load() != 3000 {
		t.Errorf("server got %d events, want 3000", got.Load())
	}
	if !strings.HasPrefix(stdout.String(), "sent 3,000 events in ") || !strings.Contains(stdout.String(), "events/s") {
		t.Errorf("stdout %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "3,000 / 3,000 events (100.0%)") {
		t.Errorf("stderr %q has no final progress line", stderr.String())
	}
}

func TestDemoStopsOnRejection(t *testing.T) {
	got, url := batchSink(t, "right-key")
	t.Setenv("CREST_API_KEY", "")
	var stdout, stderr bytes.Buffer
	err := runDemo(t.Context(), []string{"--url", url, "--api-key", "wrong-key", "--events", "5000", "--gzip=false"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `{"code":400,"error":"Invalid API key: wrong-key"}`) {
		t.Fatalf("got %v, want the server's error JSON", err)
	}
	if got.Load() != 0 || stdout.Len() != 0 {
		t.Errorf("server stored %d events, stdout %q", got.Load(), stdout.String())
	}
}

func TestDemoFlags(t *testing.T) {
	t.Setenv("CREST_API_KEY", "")
	t.Setenv("CREST_URL", "")
	f := func(args []string, want string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := runDemo(t.Context(), args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("runDemo(%q) = %v, want an error containing %q", args, err, want)
		}
		if stdout.Len() != 0 {
			t.Errorf("runDemo(%q) wrote %q to stdout", args, stdout.String())
		}
	}
	f(nil, "--api-key or CREST_API_KEY")
	f([]string{"--api-key", "k1234", "--batch", "2001"}, "--batch must be between 1 and 2000")
	f([]string{"--api-key", "k1234", "--events", "0"}, "--events must be at least 1")
	f([]string{"--api-key", "k1234", "--concurrency", "0"}, "--concurrency must be at least 1")
	f([]string{"--api-key", "k1234", "--days", "-1"}, "--days must be at least 1")
	f([]string{"--api-key", "k1234", "extra"}, `unexpected argument "extra"`)
	f([]string{"--nope"}, "flag provided but not defined")

	var stdout, stderr bytes.Buffer
	if err := runDemo(t.Context(), []string{"--help"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: got %v, want flag.ErrHelp", err)
	}
	for _, name := range []string{"-url", "-api-key", "-events", "-seed", "-concurrency", "-batch", "-days", "-gzip"} {
		if !strings.Contains(stderr.String(), name) {
			t.Errorf("--help does not mention %s", name)
		}
	}
}
