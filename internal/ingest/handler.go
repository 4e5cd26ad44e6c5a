package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
)

// Default limits (spec §1.2, §1.3).
const (
	DefaultMaxEvents       = 2000     // events per request
	DefaultMaxHTTPAPIBytes = 1 << 20  // /2/httpapi, identify, group identify, legacy
	DefaultMaxBatchBytes   = 20 << 20 // /batch
)

// Project is the project an API key belongs to.
type Project struct{ ID int64 }

// Projects finds the project of an ingestion API key. ok is false for an
// unknown key; err is for lookups that failed (answered 503).
type Projects interface {
	ProjectByAPIKey(ctx context.Context, apiKey string) (Project, bool, error)
}

// Sink receives accepted batches. Write returns only once the batch is
// durable; an error means nothing was acknowledged and the client retries.
// Write may keep b and everything it points to.
type Sink interface {
	Write(ctx context.Context, b *event.Batch) error
}

// Enricher fills derived fields (user agent, GeoIP) of an accepted event.
type Enricher interface {
	Enrich(e *event.Event)
}

// Options tunes a Handler. The zero value is valid.
type Options struct {
	// TrustedProxyHeader names a header whose first address is the client's,
	// e.g. "X-Forwarded-For". Empty: the connection's remote address.
	TrustedProxyHeader string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Enricher is called once per accepted event; nil: none.
	Enricher Enricher
	// MaxEvents caps the events of one request (after decompression);
	// default DefaultMaxEvents.
	MaxEvents int
	// MaxHTTPAPIBytes caps /2/httpapi, /identify, /groupidentify and legacy
	// bodies, compressed and decompressed; default DefaultMaxHTTPAPIBytes.
	MaxHTTPAPIBytes int64
	// MaxBatchBytes caps /batch bodies, compressed and decompressed;
	// default DefaultMaxBatchBytes.
	MaxBatchBytes int64
}

// Route is one ingestion endpoint. Path "/" is the legacy root upload and
// must be registered as an exact match (with net/http.ServeMux: "/{$}").
type Route struct {
	Method, Path string
	Handler      http.Handler
}

// Handler serves the ingestion endpoints. It is safe for concurrent use.
type Handler struct {
	projects Projects
	sink     Sink
	logger   *slog.Logger
	opts     Options
	parsers  fastjson.ParserPool
	buffers  sync.Pool // *bodyBuffers
}

// NewHandler returns a Handler that authenticates with p and hands accepted
// batches to s.
func NewHandler(p Projects, s Sink, logger *slog.Logger, opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = DefaultMaxEvents
	}
	if opts.MaxHTTPAPIBytes <= 0 {
		opts.MaxHTTPAPIBytes = DefaultMaxHTTPAPIBytes
	}
	if opts.MaxBatchBytes <= 0 {
		opts.MaxBatchBytes = DefaultMaxBatchBytes
	}
	return &Handler{projects: p, sink: s, logger: logger, opts: opts}
}

// Routes lists every ingestion route, including the CORS preflights.
func (h *Handler) Routes() []Route {
	pre := func(methods string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { preflight(w, r, methods) })
	}
	upload := func(limit int64) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serveUpload(w, r, limit) })
	}
	return []Route{
		{"POST", "/2/httpapi", upload(h.opts.MaxHTTPAPIBytes)},
		{"OPTIONS", "/2/httpapi", pre("POST, OPTIONS")},
		{"POST", "/batch", upload(h.opts.MaxBatchBytes)},
		{"OPTIONS", "/batch", pre("POST, OPTIONS")},
		{"GET", "/identify", http.HandlerFunc(h.serveIdentify)},
		{"POST", "/identify", http.HandlerFunc(h.serveIdentify)},
		{"OPTIONS", "/identify", pre("GET, POST, OPTIONS")},
		{"POST", "/groupidentify", http.HandlerFunc(h.serveGroupIdentify)},
		{"OPTIONS", "/groupidentify", pre("POST, OPTIONS")},
		{"POST", "/", http.HandlerFunc(h.serveLegacy)},
		{"OPTIONS", "/", pre("POST, OPTIONS")},
	}
}

// allowOrigin sets the CORS header every ingestion answer carries.
func allowOrigin(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Add("Vary", "Origin")
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
}

// defaultAllowHeaders is the preflight answer when the browser names no
// headers.
const defaultAllowHeaders = "Content-Type, Content-Encoding, Accept, Cross-Origin-Resource-Policy"

func preflight(w http.ResponseWriter, r *http.Request, methods string) {
	allowOrigin(w, r)
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", methods)
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		hd.Set("Access-Control-Allow-Headers", req)
	} else {
		hd.Set("Access-Control-Allow-Headers", defaultAllowHeaders)
	}
	hd.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// clientIP is the request's client address: the first address of the
// trusted proxy header when configured and present, else the connection's.
func (h *Handler) clientIP(r *http.Request) string {
	if h.opts.TrustedProxyHeader != "" {
		if v := r.Header.Get(h.opts.TrustedProxyHeader); v != "" {
			first, _, _ := strings.Cut(v, ",")
			first = strings.TrimSpace(first)
			if ip := net.ParseIP(first); ip != nil {
				return ip.String()
			}
			if host, _, err := net.SplitHostPort(first); err == nil && net.ParseIP(host) != nil {
				return net.ParseIP(host).String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeAnswer(w http.ResponseWriter, a *answer) {
	body, err := json.Marshal(a)
	if err != nil { // cannot happen: answer has only marshalable fields
		panic("BUG: marshal answer: " + err.Error())
	}
	writeJSON(w, a.Code, body)
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// serveUpload serves /2/httpapi and /batch.
func (h *Handler) serveUpload(w http.ResponseWriter, r *http.Request, limit int64) {
	allowOrigin(w, r)
	now := h.opts.Now()
	bufs := h.getBuffers()
	defer h.putBuffers(bufs)
	body, rawSize, err := readBody(r, limit, bufs)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			writeAnswer(w, tooLarge())
		} else {
			writeAnswer(w, &answer{Code: 400, Error: "Invalid JSON request body"})
		}
		return
	}
	e := env{now: now.UnixMilli(), clientIP: h.clientIP(r)}
	p := h.parsers.Get()
	u, fail := decodeUpload(p, body, e, h.opts.MaxEvents)
	h.parsers.Put(p)
	if fail != nil {
		writeAnswer(w, fail)
		return
	}
	proj, ok, err := h.projects.ProjectByAPIKey(r.Context(), u.apiKey)
	if err != nil {
		h.logger.Warn("ingest project lookup failed", "err", err)
		writeAnswer(w, unavailable())
		return
	}
	if !ok {
		writeAnswer(w, invalidAPIKey(u.apiKey))
		return
	}
	if !u.probs.empty() {
		writeAnswer(w, u.probs.answer())
		return
	}
	if len(u.events) > 0 {
		if !h.accept(w, r, proj, event.KindEvents, e.now, u.events) {
			writeAnswer(w, unavailable())
			return
		}
	}
	out := make([]byte, 0, 96)
	out = append(out, `{"code":200,"events_ingested":`...)
	out = strconv.AppendInt(out, int64(len(u.events)), 10)
	out = append(out, `,"payload_size_bytes":`...)
	out = strconv.AppendInt(out, int64(rawSize), 10)
	out = append(out, `,"server_upload_time":`...)
	out = strconv.AppendInt(out, e.now, 10)
	out = append(out, '}')
	writeJSON(w, 200, out)
}

// accept enriches events and writes them to the sink as one batch. It
// reports false when the sink failed (nothing acknowledged).
func (h *Handler) accept(_ http.ResponseWriter, r *http.Request, proj Project, kind event.Kind, now int64, events []event.Event) bool {
	for i := range events {
		events[i].ProjectID = proj.ID
		if h.opts.Enricher != nil {
			h.opts.Enricher.Enrich(&events[i])
		}
	}
	b := &event.Batch{ProjectID: proj.ID, ServerReceivedTime: now, Kind: kind, Events: events}
	if err := h.sink.Write(r.Context(), b); err != nil {
		h.logger.Warn("ingest sink write failed", "project", proj.ID, "events", len(events), "err", err)
		return false
	}
	return true
}
