package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/meta/sqlite"
)

// testParams make password hashing cheap in tests.
var testParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is a settable clock shared by the server and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a server over a fresh store.
type env struct {
	t     *testing.T
	store *sqlite.Store
	clock *clock
	logs  *syncBuffer
	srv   *Server
	deps  Deps
}

// extraRoutes stand in for the routes other packages add: an ingestion
// endpoint that checks the api_key in its body, a Basic-auth read API and
// a health check.
func extraRoutes(st meta.Store) []Route {
	return []Route{
		{Method: "POST", Path: "/2/httpapi", Rule: IngestKey, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				APIKey string `json:"api_key"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				WriteError(w, r, BadRequest("bad body"))
				return
			}
			p, ok, err := st.ProjectByAPIKey(r.Context(), body.APIKey)
			if err != nil || !ok {
				WriteError(w, r, BadRequest("invalid api key"))
				return
			}
			writeJSON(w, http.StatusOK, map[string]int64{"project": p.ID})
		})},
		{Method: "GET", Path: "/api/2/probe", Rule: Basic, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := ProjectFrom(r.Context())
			if !ok {
				panic("BUG: Basic route without project")
			}
			writeJSON(w, http.StatusOK, map[string]int64{"project": p.ID})
		})},
		{Method: "GET", Path: "/healthz", Rule: Public, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		})},
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), sqlite.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &syncBuffer{}
	d := Deps{
		Meta: st, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: c.now, ExtraRoutes: extraRoutes(st), PasswordParams: testParams,
	}
	srv, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: st, clock: c, logs: logs, srv: srv, deps: d}
}

// caller is a logged-in account (or anonymous when token is empty).
type caller struct {
	name  string
	id    int64
	token string
}

func (e *env) account(email string) meta.Account {
	e.t.Helper()
	h, err := auth.HashPassword("password "+email, testParams)
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.store.CreateAccount(e.t.Context(), email, h)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) login(name string, a meta.Account) caller {
	e.t.Helper()
	l, err := e.srv.Auth().OpenSession(e.t.Context(), a, "192.0.2.1")
	if err != nil {
		e.t.Fatal(err)
	}
	return caller{name: name, id: a.ID, token: l.Token}
}

// do sends a request through the server's handler. A caller with a token
// sends the session cookie and, when csrf is set, a valid CSRF pair.
func (e *env) do(c caller, method, path, body string, csrf bool) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "http://crest.test"+path, rd)
	r.RemoteAddr = "192.0.2.1:1234"
	if c.token != "" {
		r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: c.token})
		if csrf {
			r.AddCookie(&http.Cookie{Name: auth.CSRFCookie, Value: auth.CSRFToken(c.token)})
			r.Header.Set(auth.CSRFHeader, auth.CSRFToken(c.token))
			r.Header.Set("Origin", "http://crest.test")
		}
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, r)
	return w
}

// httptestRequest builds a cookie request carrying a valid CSRF pair.
func httptestRequest(method, path, token string) *http.Request {
	r := httptest.NewRequest(method, "http://crest.test"+path, strings.NewReader("{}"))
	r.RemoteAddr = "192.0.2.1:1234"
	r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token})
	r.AddCookie(&http.Cookie{Name: auth.CSRFCookie, Value: auth.CSRFToken(token)})
	r.Header.Set(auth.CSRFHeader, auth.CSRFToken(token))
	return r
}

func serve(s *Server, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}
