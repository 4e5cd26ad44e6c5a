package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRecoverIngestAnswersLikeAmplitude(t *testing.T) {
	h := recoverIngest(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/2/httpapi", nil))
	if rec.Code != 500 || rec.Body.String() != `{"code":500,"error":"internal error"}` {
		t.Fatalf("answer %d %q", rec.Code, rec.Body.String())
	}
}

func TestDisplayAddr(t *testing.T) {
	for in, want := range map[string]string{
		"[::]:8080": "localhost:8080", "0.0.0.0:80": "localhost:80", "127.0.0.1:9": "127.0.0.1:9",
	} {
		if got := displayAddr(in); got != want {
			t.Errorf("displayAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
