package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := New(Options{Version: "v1.2", Files: fstest.MapFS{
		"index.html":         {Data: []byte("<html><head><!--crest-settings--><title>x</title></head><body></body></html>")},
		"assets/app-abc.js":  {Data: []byte("console.log(1)")},
		"assets/app-abc.css": {Data: []byte("body{}")},
		"favicon.svg":        {Data: []byte("<svg/>")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestServe(t *testing.T) {
	h := testHandler(t)
	cases := []struct {
		method, path string
		status       int
		cache        string
		body         string // substring
	}{
		{"GET", "/", 200, "no-cache", `<meta name="crest-settings" content="{&#34;server_url&#34;:&#34;http://crest.test&#34;,&#34;version&#34;:&#34;v1.2&#34;}">`},
		{"GET", "/login", 200, "no-cache", "crest-settings"},
		{"GET", "/projects/1/charts/2", 200, "no-cache", "crest-settings"},
		{"GET", "/invite/tok", 200, "no-cache", "crest-settings"},
		{"GET", "/index.html", 200, "no-cache", "crest-settings"},
		{"GET", "/assets/app-abc.js", 200, "public, max-age=31536000, immutable", "console.log"},
		{"GET", "/assets/app-abc.css", 200, "public, max-age=31536000, immutable", "body{}"},
		{"GET", "/favicon.svg", 200, "public, max-age=3600", "<svg/>"},
		{"GET", "/assets/missing.js", 404, "", ""},
		{"GET", "/nothing-here", 404, "", ""},
		{"GET", "/wp-admin/x", 404, "", ""},
		{"POST", "/login", 405, "", ""},
		{"HEAD", "/", 200, "no-cache", ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "http://crest.test"+c.path, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d", rec.Code, c.status)
			}
			if c.cache != "" && rec.Header().Get("Cache-Control") != c.cache {
				t.Fatalf("Cache-Control %q, want %q", rec.Header().Get("Cache-Control"), c.cache)
			}
			if !strings.Contains(rec.Body.String(), c.body) {
				t.Fatalf("body %q lacks %q", rec.Body.String(), c.body)
			}
		})
	}
}

func TestServerURLScheme(t *testing.T) {
	cases := []struct {
		https bool
		proto string
		want  string
	}{
		{false, "", "http://crest.test"},
		{true, "", "https://crest.test"},
		{false, "https", "https://crest.test"},
		{false, "http", "http://crest.test"},
	}
	for _, c := range cases {
		h, err := New(Options{HTTPS: c.https, Files: fstest.MapFS{"index.html": {Data: []byte("<head></head>")}}})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "http://crest.test/", nil)
		if c.proto != "" {
			req.Header.Set("X-Forwarded-Proto", c.proto)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if want := "&#34;server_url&#34;:&#34;" + c.want + "&#34;"; !strings.Contains(rec.Body.String(), want) {
			t.Errorf("https=%v proto=%q: page %q lacks %q", c.https, c.proto, rec.Body.String(), want)
		}
	}
}

func TestPageWithoutPlaceholder(t *testing.T) {
	h, err := New(Options{Files: fstest.MapFS{"index.html": {Data: []byte("<head></head>")}}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := h.Page(Settings{ServerURL: "https://a.example", Version: `"<x>`})
	if err != nil {
		t.Fatal(err)
	}
	want := `<head><meta name="crest-settings" content="{&#34;server_url&#34;:&#34;https://a.example&#34;,&#34;version&#34;:&#34;\&#34;\u003cx\u003e&#34;}"></head>`
	if string(page) != want {
		t.Fatalf("page\n%s\nwant\n%s", page, want)
	}
	if _, err := New(Options{Files: fstest.MapFS{}}); err == nil {
		t.Fatal("New without index.html: want an error")
	}
}

func TestEmbeddedIndexServes(t *testing.T) {
	h, err := New(Options{ServerURL: "http://x:1"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "crest-settings") {
		t.Fatalf("embedded index: %d %q", rec.Code, rec.Body.String())
	}
}
