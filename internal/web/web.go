// Package web serves Crest's single-page web app, embedded into the binary
// from internal/web/dist (built by `make ui` from ui/; git keeps only
// dist/.gitkeep, and stub.html stands in until the app is built). Hashed assets under
// /assets/ are cached for a year; index.html is served, never cached, for
// the app's own routes only, with the runtime settings (server URL,
// version) injected as a <meta> tag so no inline script is needed.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

//go:embed all:dist
var dist embed.FS

// stub is served when the binary was built without the app (dist holds
// only .gitkeep): go build works without Node.
//
//go:embed stub.html
var stub []byte

// Options configure the handler.
type Options struct {
	// Version is the build's version, shown in the app.
	Version string
	// ServerURL is the URL SDK snippets send events to. Empty: the
	// scheme and host of each request.
	ServerURL string
	// HTTPS says clients reach the server over TLS (a TLS proxy in front),
	// for the scheme of a ServerURL taken from the request.
	HTTPS bool
	// Files replaces the embedded dist directory (tests).
	Files fs.FS
}

// Settings are the runtime settings the page reads from
// <meta name="crest-settings">.
type Settings struct {
	ServerURL string `json:"server_url"`
	Version   string `json:"version"`
}

// Handler serves the app.
type Handler struct {
	opts  Options
	files fs.FS
	index []byte   // index.html split around the settings placeholder
	gz    sync.Map // file name → gzipped bytes ([]byte), made on first use
}

// compressible are the extensions whose files are sent gzipped to
// clients that accept it: the app's JavaScript is ~1 MB, ~0.3 MB gzipped.
var compressible = map[string]bool{".js": true, ".css": true, ".svg": true, ".json": true, ".map": true, ".txt": true}

// placeholder is where the settings go; the build's index.html has it in
// <head>, and without it they go before </head>.
const placeholder = "<!--crest-settings-->"

// New returns the handler for the embedded app (or opts.Files).
func New(opts Options) (*Handler, error) {
	files := opts.Files
	if files == nil {
		sub, err := fs.Sub(dist, "dist")
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		files = sub
	}
	index, err := fs.ReadFile(files, "index.html")
	if errors.Is(err, fs.ErrNotExist) && opts.Files == nil {
		index, err = stub, nil
	}
	if err != nil {
		return nil, fmt.Errorf("web: read index.html: %w", err)
	}
	return &Handler{opts: opts, files: files, index: index}, nil
}

// IsUIRoute reports whether p is one of the app's client-side routes:
// its first path segment is one the app's router knows.
func IsUIRoute(p string) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	switch first {
	case "", "index.html", "setup", "login", "invite", "projects":
		return true
	}
	return false
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if p != "/index.html" && !strings.HasSuffix(p, "/") && h.serveFile(w, r, p) {
		return
	}
	if !IsUIRoute(p) {
		http.NotFound(w, r)
		return
	}
	h.serveIndex(w, r)
}

// serveFile serves a file of the build when it exists.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, p string) bool {
	name := strings.TrimPrefix(p, "/")
	data, err := fs.ReadFile(h.files, name)
	if err != nil {
		return false
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if strings.HasPrefix(name, "assets/") {
		// Vite names assets by content hash: they never change.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=3600")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if compressible[path.Ext(name)] {
		w.Header().Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			data = h.gzipped(name, data)
			w.Header().Set("Content-Encoding", "gzip")
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return true
	}
	_, _ = w.Write(data)
	return true
}

// gzipped returns data compressed, compressing each file once.
func (h *Handler) gzipped(name string, data []byte) []byte {
	if v, ok := h.gz.Load(name); ok {
		return v.([]byte)
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level: no error
	_, _ = zw.Write(data)                                  // writes to memory cannot fail
	_ = zw.Close()
	v, _ := h.gz.LoadOrStore(name, b.Bytes())
	return v.([]byte)
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip:
// listed, or covered by *, with a q-value above 0. An explicit gzip entry
// wins over *.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		ok := true
		if k, v, found := strings.Cut(strings.TrimSpace(params), "="); found && strings.TrimSpace(strings.ToLower(k)) == "q" {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			ok = err == nil && q > 0
		}
		switch coding {
		case "gzip":
			return ok
		case "*":
			star = ok
		}
	}
	return star
}

// Page returns index.html with the settings injected.
func (h *Handler) Page(s Settings) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("web: settings: %w", err)
	}
	tag := `<meta name="crest-settings" content="` + html.EscapeString(string(b)) + `">`
	if i := bytes.Index(h.index, []byte(placeholder)); i >= 0 {
		return concat(h.index[:i], tag, h.index[i+len(placeholder):]), nil
	}
	if i := bytes.Index(h.index, []byte("</head>")); i >= 0 {
		return concat(h.index[:i], tag, h.index[i:]), nil
	}
	return nil, errors.New("web: index.html has no </head>")
}

func concat(a []byte, mid string, b []byte) []byte {
	out := make([]byte, 0, len(a)+len(mid)+len(b))
	return append(append(append(out, a...), mid...), b...)
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	s := Settings{ServerURL: h.opts.ServerURL, Version: h.opts.Version}
	if s.ServerURL == "" {
		s.ServerURL = requestOrigin(r, h.opts.HTTPS)
	}
	page, err := h.Page(s)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(page)
}

// requestOrigin is the scheme and host the browser used. The
// X-Forwarded-Proto header is honoured: it only changes what the caller's
// own page shows.
func requestOrigin(r *http.Request, https bool) string {
	scheme := "http"
	if https || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
