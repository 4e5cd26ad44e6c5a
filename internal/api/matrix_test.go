package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
)

// policy is the reviewed rule of every route. A route added to the
// server without an entry here, or with a different rule, fails
// TestAuthorizationMatrix.
var policy = map[string]Rule{
	"GET /api/v1/setup":                                         Public,
	"POST /api/v1/setup":                                        Public,
	"POST /api/v1/login":                                        Public,
	"POST /api/v1/logout":                                       Session,
	"GET /api/v1/me":                                            Session,
	"POST /api/v1/me/password":                                  Session,
	"GET /api/v1/me/sessions":                                   Session,
	"DELETE /api/v1/me/sessions/{session}":                      Session,
	"GET /api/v1/orgs":                                          Session,
	"POST /api/v1/orgs":                                         Session,
	"GET /api/v1/orgs/{org}":                                    OrgRole(meta.RoleViewer),
	"PATCH /api/v1/orgs/{org}":                                  OrgRole(meta.RoleAdmin),
	"GET /api/v1/orgs/{org}/members":                            OrgRole(meta.RoleViewer),
	"POST /api/v1/orgs/{org}/members":                           OrgRole(meta.RoleAdmin),
	"PATCH /api/v1/orgs/{org}/members/{account}":                OrgRole(meta.RoleAdmin),
	"DELETE /api/v1/orgs/{org}/members/{account}":               OrgRole(meta.RoleAdmin),
	"POST /api/v1/orgs/{org}/members/{account}/revoke-sessions": OrgRole(meta.RoleAdmin),
	"POST /api/v1/orgs/{org}/members/{account}/disable":         OrgRole(meta.RoleAdmin),
	"POST /api/v1/orgs/{org}/members/{account}/enable":          OrgRole(meta.RoleAdmin),
	"GET /api/v1/orgs/{org}/audit":                              OrgRole(meta.RoleAdmin),
	"GET /api/v1/orgs/{org}/invitations":                        OrgRole(meta.RoleAdmin),
	"POST /api/v1/orgs/{org}/invitations":                       OrgRole(meta.RoleAdmin),
	"DELETE /api/v1/orgs/{org}/invitations/{invitation}":        OrgRole(meta.RoleAdmin),
	"GET /api/v1/invitations/{token}":                           Public,
	"POST /api/v1/invitations/{token}/accept":                   Session,
	"POST /api/v1/invitations/{token}/signup":                   Public,
	"GET /api/v1/projects":                                      Session,
	"POST /api/v1/orgs/{org}/projects":                          OrgRole(meta.RoleAdmin),
	"GET /api/v1/projects/{project}":                            ProjectRole(meta.RoleViewer),
	"PATCH /api/v1/projects/{project}":                          ProjectRole(meta.RoleAdmin),
	"GET /api/v1/projects/{project}/roles":                      ProjectRole(meta.RoleAdmin),
	"PUT /api/v1/projects/{project}/roles/{account}":            ProjectRole(meta.RoleAdmin),
	"DELETE /api/v1/projects/{project}/roles/{account}":         ProjectRole(meta.RoleAdmin),
	"GET /api/v1/projects/{project}/api-key":                    ProjectRole(meta.RoleViewer),
	"GET /api/v1/projects/{project}/keys":                       ProjectRole(meta.RoleAdmin),
	"POST /api/v1/projects/{project}/keys/rotate":               ProjectRole(meta.RoleAdmin),
	// Extra routes of the test (stand-ins for ingest, read APIs, health).
	"POST /2/httpapi":  IngestKey,
	"GET /api/2/probe": Basic,
	"GET /healthz":     Public,
}

// world is two organisations with a project each and callers of every
// kind.
type world struct {
	*env
	orgA, orgB   int64
	projA, projB int64
	callers      []caller
	// roles[caller name][scope+target] is the caller's expected role.
	roles map[string]map[string]meta.Role
	keys  meta.DefaultKeys
}

func newWorld(t *testing.T) *world {
	e := newEnv(t)
	ctx := t.Context()
	w := &world{env: e, roles: map[string]map[string]meta.Role{}}
	pA, keys, _, err := e.store.EnsureDefault(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	w.keys = keys
	w.orgA, w.projA = pA.OrgID, pA.ID
	adminA, viewerA, memberA, overA, adminB := e.account("admin-a@example.com"), e.account("viewer-a@example.com"),
		e.account("member-a@example.com"), e.account("over-a@example.com"), e.account("admin-b@example.com")
	for _, m := range []struct {
		a    meta.Account
		role meta.Role
	}{{adminA, meta.RoleAdmin}, {viewerA, meta.RoleViewer}, {memberA, meta.RoleMember}, {overA, meta.RoleMember}} {
		if err := e.store.SetMember(ctx, w.orgA, m.a.ID, m.role); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.SetProjectRole(ctx, w.projA, overA.ID, meta.RoleViewer); err != nil {
		t.Fatal(err)
	}
	oB, err := e.store.CreateOrg(ctx, "B", adminB.ID)
	if err != nil {
		t.Fatal(err)
	}
	pB, err := e.store.CreateProject(ctx, oB.ID, "B project", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	w.orgB, w.projB = oB.ID, pB.ID
	w.callers = []caller{
		{name: "anonymous"},
		e.login("viewer", viewerA),
		e.login("member", memberA),
		e.login("member-overridden-to-viewer", overA),
		e.login("admin", adminA),
		e.login("other-org-admin", adminB),
	}
	set := func(name string, orgA, projA, orgB, projB meta.Role) {
		w.roles[name] = map[string]meta.Role{"org:own": orgA, "project:own": projA, "org:other": orgB, "project:other": projB}
	}
	set("anonymous", "", "", "", "")
	set("viewer", meta.RoleViewer, meta.RoleViewer, "", "")
	set("member", meta.RoleMember, meta.RoleMember, "", "")
	set("member-overridden-to-viewer", meta.RoleMember, meta.RoleViewer, "", "")
	set("admin", meta.RoleAdmin, meta.RoleAdmin, "", "")
	set("other-org-admin", "", "", meta.RoleAdmin, meta.RoleAdmin)
	return w
}

// fill substitutes the path values of a pattern for a target.
func (w *world) fill(path, target string) string {
	org, proj := w.orgA, w.projA
	if target == "other" {
		org, proj = w.orgB, w.projB
	}
	r := strings.NewReplacer(
		"{org}", strconv.FormatInt(org, 10), "{project}", strconv.FormatInt(proj, 10),
		"{account}", "1", "{session}", "1", "{invitation}", "1", "{token}", "some-token")
	return r.Replace(path)
}

// expectAllowed is what the rule should let through for a caller.
func (w *world) expectAllowed(rule Rule, c caller, target string) bool {
	switch rule {
	case Public, IngestKey:
		return true
	case Basic:
		return false // no Basic credentials in the matrix
	case Session:
		return c.token != ""
	}
	scope, min, ok := rule.role()
	if !ok {
		panic("BUG: unknown rule " + string(rule))
	}
	return w.roles[c.name][scope+":"+target].AtLeast(min)
}

// probeServer is the server's own route table with every handler
// replaced by a probe, so a cell shows whether the rule let it through.
func probeServer(t *testing.T, s *Server) (*Server, *string) {
	t.Helper()
	var reached string
	routes := s.Routes()
	for i := range routes {
		p := routes[i].pattern()
		routes[i].Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached = p
			w.WriteHeader(299)
		})
	}
	ps := &Server{d: s.d, auth: s.auth}
	if err := ps.mount(routes); err != nil {
		t.Fatal(err)
	}
	return ps, &reached
}

func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	routes := w.srv.Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		p := rt.pattern()
		seen[p] = true
		want, ok := policy[p]
		if !ok {
			t.Errorf("route %s has no entry in the reviewed policy table", p)
			continue
		}
		if rt.Rule != want {
			t.Errorf("route %s: rule %q, policy says %q", p, rt.Rule, want)
		}
		// A viewer cannot change anything: every state-changing route
		// scoped to a project or org needs more than viewer.
		if _, min, ok := rt.Rule.role(); ok && !auth.SafeMethod(rt.Method) && !min.AtLeast(meta.RoleMember) {
			t.Errorf("route %s changes state but admits viewers", p)
		}
	}
	for p := range policy {
		if !seen[p] {
			t.Errorf("policy entry %s is not registered", p)
		}
	}

	ps, reached := probeServer(t, w.srv)
	w.srv = ps
	cells := 0
	for _, rt := range routes {
		for _, c := range w.callers {
			for _, target := range []string{"own", "other"} {
				*reached = ""
				path := w.fill(rt.Path, target)
				rec := w.do(c, rt.Method, path, "{}", true)
				allowed := *reached == rt.pattern()
				want := w.expectAllowed(rt.Rule, c, target)
				cells++
				if allowed != want {
					t.Errorf("%s %s as %s on %s project: allowed=%v (status %d), want %v",
						rt.Method, path, c.name, target, allowed, rec.Code, want)
				}
				if !allowed && rec.Code != 401 && rec.Code != 403 && rec.Code != 404 {
					t.Errorf("%s %s as %s: denied with status %d; want 401, 403 or 404", rt.Method, path, c.name, rec.Code)
				}
			}
		}
	}
	t.Logf("%d routes, %d cells", len(routes), cells)
}

// TestCSRFRejected sends every state-changing cookie route without the
// CSRF pair, and from another origin, as the admin: none may pass.
func TestCSRFRejected(t *testing.T) {
	w := newWorld(t)
	ps, reached := probeServer(t, w.srv)
	w.srv = ps
	admin := w.callers[4]
	n := 0
	for _, rt := range w.srv.Routes() {
		if auth.SafeMethod(rt.Method) || rt.Rule == Public || rt.Rule == IngestKey || rt.Rule == Basic {
			continue
		}
		path := w.fill(rt.Path, "own")
		*reached = ""
		rec := w.do(admin, rt.Method, path, "{}", false)
		if *reached != "" || rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"csrf"`) {
			t.Errorf("%s %s without CSRF token: status %d reached=%v", rt.Method, path, rec.Code, *reached != "")
		}
		// Valid token pair but a cross-site origin.
		r := httptestRequest(rt.Method, path, admin.token)
		r.Header.Set("Origin", "https://evil.example")
		*reached = ""
		rr := serve(w.srv, r)
		if *reached != "" || rr.Code != http.StatusForbidden {
			t.Errorf("%s %s from another origin: status %d reached=%v", rt.Method, path, rr.Code, *reached != "")
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d state-changing session routes checked", n)
	}
}

func TestNewRejectsBadRoutes(t *testing.T) {
	e := newEnv(t)
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, c := range []struct {
		name  string
		route Route
	}{
		{"no rule", Route{Method: "GET", Path: "/api/v1/new", Handler: ok}},
		{"unknown rule", Route{Method: "GET", Path: "/api/v1/new", Rule: "admin", Handler: ok}},
		{"project rule without {project}", Route{Method: "GET", Path: "/api/v1/new", Rule: ProjectRole(meta.RoleViewer), Handler: ok}},
		{"org rule with bad role", Route{Method: "GET", Path: "/api/v1/orgs/{org}/x", Rule: OrgRole("owner"), Handler: ok}},
		{"no handler", Route{Method: "GET", Path: "/api/v1/new", Rule: Public}},
		{"same pattern twice", Route{Method: "POST", Path: "/api/v1/login", Rule: Public, Handler: ok}},
		{"conflicting wildcard", Route{Method: "GET", Path: "/api/v1/projects/{id}", Rule: Session, Handler: ok}},
		{"shadows the API 404", Route{Path: "/api/", Rule: Public, Handler: ok}},
	} {
		d := e.deps
		d.ExtraRoutes = []Route{c.route}
		if _, err := New(d); err == nil {
			t.Errorf("%s: New accepted %+v", c.name, c.route)
		}
	}
	d := e.deps
	d.ExtraRoutes = []Route{{Method: "GET", Path: "/api/v1/projects/{project}/charts", Rule: ProjectRole(meta.RoleViewer), Handler: ok}}
	if _, err := New(d); err != nil {
		t.Errorf("New rejected a valid extra route: %v", err)
	}
}
