// Package api serves Crest's web-app JSON API under /api/v1 and hosts the
// routes of other packages (ingestion, Amplitude-compatible read APIs).
// Every route is declared once with the Rule it needs; the server checks
// the rule and resolves the project before any handler runs, and maps
// every error through WriteError.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
)

// Route is one endpoint: a net/http.ServeMux method and pattern, the rule
// a request must pass, and the handler it then reaches. An empty Method
// matches every method.
type Route struct {
	Method, Path string
	Rule         Rule
	Handler      http.Handler
}

func (r Route) pattern() string {
	if r.Method == "" {
		return r.Path
	}
	return r.Method + " " + r.Path
}

// Deps are what the server needs. Meta and Logger are required.
type Deps struct {
	Meta   meta.Store
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ExtraRoutes are other packages' routes (ingestion with IngestKey,
	// read APIs with Basic, /healthz with Public, ...).
	ExtraRoutes []Route
	// SecureCookies marks cookies Secure even on plain HTTP (behind a TLS
	// proxy).
	SecureCookies bool
	// TrustedOrigins are extra origins allowed to make cookie-authenticated
	// state-changing requests.
	TrustedOrigins []string
	// PasswordParams hash new passwords (zero: auth.DefaultParams()).
	PasswordParams auth.Params
	// ClientAddr returns a request's remote address for throttling and the
	// audit log (default: the host of RemoteAddr; set it to honour a
	// trusted proxy header).
	ClientAddr func(*http.Request) string
	// InvitationTTL is how long an invitation link stays valid when the
	// request does not say (default 7 days).
	InvitationTTL time.Duration
}

// Server is the HTTP API. Build it with New.
type Server struct {
	d       Deps
	auth    *auth.Service
	routes  []Route
	handler http.Handler
}

// maxGrace bounds the grace period of a key rotation.
const maxGrace = 30 * 24 * time.Hour

// New builds the server from its own routes and d.ExtraRoutes. It returns
// an error if a route has no valid rule or two routes collide.
func New(d Deps) (*Server, error) {
	if d.Meta == nil || d.Logger == nil {
		return nil, errors.New("api: Meta and Logger are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ClientAddr == nil {
		d.ClientAddr = remoteHost
	}
	if d.InvitationTTL <= 0 {
		d.InvitationTTL = 7 * 24 * time.Hour
	}
	s := &Server{d: d}
	s.auth = auth.NewService(auth.Config{
		Store: d.Meta, Now: d.Now, Params: d.PasswordParams,
		SecureCookies: d.SecureCookies, TrustedOrigins: d.TrustedOrigins,
	})
	if err := s.mount(append(s.ownRoutes(), d.ExtraRoutes...)); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) mount(routes []Route) (err error) {
	mux := http.NewServeMux()
	seen := map[string]bool{}
	for _, rt := range routes {
		p := rt.pattern()
		if err := rt.Rule.check(rt.Path); err != nil {
			return fmt.Errorf("api: route %s: %w", p, err)
		}
		if rt.Handler == nil {
			return fmt.Errorf("api: route %s: no handler", p)
		}
		if seen[p] || rt.Path == "/api/" {
			return fmt.Errorf("api: route %s registered twice", p)
		}
		seen[p] = true
		if err := handle(mux, p, s.guard(rt)); err != nil {
			return fmt.Errorf("api: route %s: %w", p, err)
		}
	}
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, Errorf(http.StatusNotFound, "not_found", "no such API endpoint"))
	}))
	s.routes = routes
	s.handler = s.logRequests(mux)
	return nil
}

// handle registers with mux, turning ServeMux's panic on conflicting
// patterns into an error.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes returns every registered route (own and extra).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Auth returns the session service, for wiring and tests.
func (s *Server) Auth() *auth.Service { return s.auth }

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// guard wraps a route's handler with its rule.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.authorize(r, rt.Rule); err != nil {
			if rt.Rule.page() {
				// A page is served all the same, as to a stranger; only a
				// failure of Crest's own is kept for the access log.
				if st := stateFrom(r.Context()); st != nil {
					*st = state{}
					var ae *Error
					if !errors.As(err, &ae) && !errors.Is(err, auth.ErrUnauthenticated) {
						st.err = err
					}
				}
				rt.Handler.ServeHTTP(w, r)
				return
			}
			if rt.Rule == Basic {
				w.Header().Set("WWW-Authenticate", `Basic realm="crest"`)
			}
			WriteError(w, r, err)
			return
		}
		rt.Handler.ServeHTTP(w, r)
	})
}

// authorize checks rule against r and records what it resolved in the
// request's state.
func (s *Server) authorize(r *http.Request, rule Rule) error {
	ctx := r.Context()
	st := stateFrom(ctx)
	switch rule {
	case Public, IngestKey:
		return nil
	case Basic:
		user, pass, ok := r.BasicAuth()
		if !ok {
			return auth.ErrUnauthenticated
		}
		p, ok, err := s.d.Meta.ProjectByKeys(ctx, user, pass)
		if err != nil {
			return fmt.Errorf("basic auth: %w", err)
		}
		if !ok {
			return Errorf(http.StatusUnauthorized, "invalid_credentials", "invalid API key or secret key")
		}
		st.project = &p
		return nil
	}
	if err := s.authenticate(r, st); err != nil {
		return err
	}
	if rule == Session {
		return nil
	}
	scope, min, _ := rule.role()
	var role meta.Role
	switch scope {
	case "project":
		id, err := strconv.ParseInt(r.PathValue("project"), 10, 64)
		if err != nil {
			return errNotFound()
		}
		p, err := s.d.Meta.Project(ctx, id)
		if errors.Is(err, meta.ErrNotFound) {
			return errNotFound()
		} else if err != nil {
			return fmt.Errorf("load project: %w", err)
		}
		r, ok, err := s.effectiveRole(ctx, p, st.account.ID)
		if err != nil {
			return err
		}
		if !ok {
			return errNotFound() // do not reveal that the project exists
		}
		st.project, role = &p, r
	case "org":
		id, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
		if err != nil {
			return errNotFound()
		}
		r, ok, err := s.d.Meta.MemberRole(ctx, id, st.account.ID)
		if err != nil {
			return fmt.Errorf("load membership: %w", err)
		}
		if !ok {
			return errNotFound()
		}
		o, err := s.d.Meta.Org(ctx, id)
		if err != nil {
			return fmt.Errorf("load org: %w", err)
		}
		st.org, role = &o, r
	}
	st.role = role
	if !role.AtLeast(min) {
		return errForbidden()
	}
	return nil
}

// authenticate resolves the session cookie and, for state-changing
// methods, checks CSRF.
func (s *Server) authenticate(r *http.Request, st *state) error {
	token := auth.SessionToken(r)
	a, sess, err := s.auth.Authenticate(r.Context(), token, s.d.ClientAddr(r))
	if err != nil {
		return err
	}
	if !auth.SafeMethod(r.Method) {
		if err := s.auth.CheckCSRF(r, token); err != nil {
			return err
		}
	}
	st.account, st.session, st.token = &a, &sess, token
	return nil
}

// effectiveRole is the caller's role on p: an org admin is admin of every
// project; otherwise a per-project override wins over the org role. ok is
// false for accounts outside the project's organisation.
func (s *Server) effectiveRole(ctx context.Context, p meta.Project, accountID int64) (meta.Role, bool, error) {
	orgRole, ok, err := s.d.Meta.MemberRole(ctx, p.OrgID, accountID)
	if err != nil || !ok {
		return "", false, err
	}
	if orgRole == meta.RoleAdmin {
		return orgRole, true, nil
	}
	over, ok, err := s.d.Meta.ProjectRole(ctx, p.ID, accountID)
	if err != nil {
		return "", false, err
	}
	if ok {
		return over, true, nil
	}
	return orgRole, true, nil
}

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, route pattern (not the
// path, which may hold an invitation token), status and duration. It never
// logs headers, cookies, query strings or bodies.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.d.Now()
		st := &state{}
		r = r.WithContext(context.WithValue(r.Context(), stateKey, st))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		attrs := []any{"method", r.Method, "route", route, "status", sw.status, "duration", s.d.Now().Sub(start)}
		if st.err != nil {
			attrs = append(attrs, "err", st.err)
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.d.Logger.Log(r.Context(), level, "http request", attrs...)
	})
}

// audit records an administrative action by the caller of r. details
// must not hold secrets.
func (s *Server) audit(r *http.Request, orgID int64, action, target string, details map[string]any) error {
	e := meta.AuditEntry{OrgID: orgID, Action: action, Target: target, At: s.d.Now(), RemoteAddr: s.d.ClientAddr(r)}
	if a, ok := AccountFrom(r.Context()); ok {
		e.AccountID, e.Email = a.ID, a.Email
	}
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		e.Details = b
	}
	if err := s.d.Meta.AddAudit(r.Context(), e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// pathID parses a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil {
		return 0, errNotFound()
	}
	return id, nil
}

// validName trims a name and checks its length.
func validName(what, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", BadRequest("%s must be 1 to 200 characters", what)
	}
	return name, nil
}

// validTimeZone checks an IANA time zone name.
func validTimeZone(tz string) (string, error) {
	if tz == "" {
		return "UTC", nil
	}
	if _, err := time.LoadLocation(tz); err != nil || strings.EqualFold(tz, "local") {
		return "", BadRequest("unknown time zone %q", tz)
	}
	return tz, nil
}
