package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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

func TestGzipAssets(t *testing.T) {
	js := strings.Repeat("console.log('crest');\n", 500)
	h, err := New(Options{Files: fstest.MapFS{
		"index.html":        {Data: []byte("<head></head>")},
		"assets/app-abc.js": {Data: []byte(js)},
		"assets/logo.png":   {Data: []byte("\x89PNG....")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(p, accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", p, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, c := range []struct {
		accept string
		gz     bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"*", true},
		{"gzip;q=0, *", false},
		{"*;q=0", false},
		{"identity", false},
		{"", false},
	} {
		rec := get("/assets/app-abc.js", c.accept)
		if rec.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("%q: Vary %q", c.accept, rec.Header().Get("Vary"))
		}
		body := rec.Body.Bytes()
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != c.gz {
			t.Errorf("%q: gzip %v, want %v", c.accept, got, c.gz)
			continue
		}
		if rec.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("%q: Content-Length %q for %d bytes", c.accept, rec.Header().Get("Content-Length"), len(body))
		}
		if c.gz {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || string(plain) != js {
				t.Errorf("%q: gunzipped body differs (%v)", c.accept, err)
			}
			if len(body) >= len(js)/4 {
				t.Errorf("%q: %d gzipped bytes for %d", c.accept, len(body), len(js))
			}
		} else if string(body) != js {
			t.Errorf("%q: plain body differs", c.accept)
		}
	}
	// Already compressed formats are sent as they are.
	if rec := get("/assets/logo.png", "gzip"); rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("png sent with Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
}
