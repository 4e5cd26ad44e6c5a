package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/config"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/meta/sqlite"
)

// serverPolicy is the reviewed rule of every route of the whole server:
// the API's own, ingestion, the read APIs, the web app's, merges and the
// UI. A route added anywhere without an entry here, or with another rule,
// fails TestServerAuthorization.
var serverPolicy = map[string]string{
	" /":                                   "public",
	"DELETE /api/v1/me/sessions/{session}": "session",
	"DELETE /api/v1/orgs/{org}/invitations/{invitation}":           "org:admin",
	"DELETE /api/v1/orgs/{org}/members/{account}":                  "org:admin",
	"DELETE /api/v1/projects/{project}/charts/{chart}":             "project:member",
	"DELETE /api/v1/projects/{project}/dashboards/{dashboard}":     "project:member",
	"DELETE /api/v1/projects/{project}/roles/{account}":            "project:admin",
	"GET /api/2/events/list":                                       "basic",
	"GET /api/2/events/segmentation":                               "basic",
	"GET /api/2/funnels":                                           "basic",
	"GET /api/2/retention":                                         "basic",
	"GET /api/2/sessions/average":                                  "basic",
	"GET /api/2/sessions/length":                                   "basic",
	"GET /api/2/sessions/peruser":                                  "basic",
	"GET /api/2/useractivity":                                      "basic",
	"GET /api/2/users":                                             "basic",
	"GET /api/2/usersearch":                                        "basic",
	"GET /api/v1/invitations/{token}":                              "public",
	"GET /api/v1/me":                                               "session",
	"GET /api/v1/me/sessions":                                      "session",
	"GET /api/v1/merges/{amplitude_id}":                            "basic",
	"GET /api/v1/orgs":                                             "session",
	"GET /api/v1/orgs/{org}":                                       "org:viewer",
	"GET /api/v1/orgs/{org}/audit":                                 "org:admin",
	"GET /api/v1/orgs/{org}/invitations":                           "org:admin",
	"GET /api/v1/orgs/{org}/members":                               "org:viewer",
	"GET /api/v1/projects":                                         "session",
	"GET /api/v1/projects/{project}":                               "project:viewer",
	"GET /api/v1/projects/{project}/api-key":                       "project:viewer",
	"GET /api/v1/projects/{project}/charts":                        "project:viewer",
	"GET /api/v1/projects/{project}/charts/{chart}":                "project:viewer",
	"GET /api/v1/projects/{project}/dashboards":                    "project:viewer",
	"GET /api/v1/projects/{project}/dashboards/{dashboard}":        "project:viewer",
	"GET /api/v1/projects/{project}/events":                        "project:viewer",
	"GET /api/v1/projects/{project}/keys":                          "project:admin",
	"GET /api/v1/projects/{project}/live":                          "project:viewer",
	"GET /api/v1/projects/{project}/properties":                    "project:viewer",
	"GET /api/v1/projects/{project}/properties/values":             "project:viewer",
	"GET /api/v1/projects/{project}/roles":                         "project:admin",
	"GET /api/v1/projects/{project}/users/search":                  "project:viewer",
	"GET /api/v1/projects/{project}/users/{amplitude_id}":          "project:viewer",
	"GET /api/v1/projects/{project}/users/{amplitude_id}/activity": "project:viewer",
	"GET /api/v1/projects/{project}/users/{amplitude_id}/merges":   "project:viewer",
	"GET /api/v1/setup":                                            "public",
	"GET /healthz":                                                 "public",
	"GET /identify":                                                "ingest-key",
	"GET /readyz":                                                  "public",
	"GET /projects/{project}/dashboards/{dashboard}":               "page:viewer",
	"OPTIONS /2/httpapi":                                           "ingest-key",
	"OPTIONS /batch":                                               "ingest-key",
	"OPTIONS /groupidentify":                                       "ingest-key",
	"OPTIONS /identify":                                            "ingest-key",
	"OPTIONS /{$}":                                                 "ingest-key",
	"PATCH /api/v1/orgs/{org}":                                     "org:admin",
	"PATCH /api/v1/orgs/{org}/members/{account}":                   "org:admin",
	"PATCH /api/v1/projects/{project}":                             "project:admin",
	"POST /2/httpapi":                                              "ingest-key",
	"POST /api/v1/invitations/{token}/accept":                      "session",
	"POST /api/v1/invitations/{token}/signup":                      "public",
	"POST /api/v1/login":                                           "public",
	"POST /api/v1/logout":                                          "session",
	"POST /api/v1/me/password":                                     "session",
	"POST /api/v1/merges/{from}/undo":                              "basic",
	"POST /api/v1/orgs":                                            "session",
	"POST /api/v1/orgs/{org}/invitations":                          "org:admin",
	"POST /api/v1/orgs/{org}/members":                              "org:admin",
	"POST /api/v1/orgs/{org}/members/{account}/disable":            "org:admin",
	"POST /api/v1/orgs/{org}/members/{account}/enable":             "org:admin",
	"POST /api/v1/orgs/{org}/members/{account}/revoke-sessions":    "org:admin",
	"POST /api/v1/orgs/{org}/projects":                             "org:admin",
	"POST /api/v1/projects/{project}/charts":                       "project:member",
	"POST /api/v1/projects/{project}/dashboards":                   "project:member",
	"POST /api/v1/projects/{project}/keys/rotate":                  "project:admin",
	"POST /api/v1/projects/{project}/merges/{from}/undo":           "project:admin",
	"POST /api/v1/projects/{project}/query":                        "project:viewer",
	"POST /api/v1/projects/{project}/query/users":                  "project:viewer",
	"POST /api/v1/setup":                                           "public",
	"POST /batch":                                                  "ingest-key",
	"POST /groupidentify":                                          "ingest-key",
	"POST /identify":                                               "ingest-key",
	"POST /{$}":                                                    "ingest-key",
	"PUT /api/v1/projects/{project}/charts/{chart}":                "project:member",
	"PUT /api/v1/projects/{project}/dashboards/{dashboard}":        "project:member",
	"PUT /api/v1/projects/{project}/roles/{account}":               "project:admin",
}

// TestServerAuthorization walks every route the real server registers:
// each must have its reviewed rule, and every route that needs a login,
// a project role, an organisation role or the project's keys must refuse
// anonymous callers, wrong keys, a viewer where it needs more, and an
// administrator of another organisation.
func TestServerAuthorization(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: dir, LogLevel: "info", ShutdownTimeout: time.Second,
		APIKey: "own-api-key-0123456789", SecretKey: "own-secret-key-0123456789"}
	var srv *api.Server
	ctx := t.Context()
	// serve builds the whole server and hands it over without listening;
	// its stores close when serve returns, so the walk runs inside.
	err := serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard, func(s *api.Server) error {
		srv = s
		walkServer(t, srv, cfg)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func walkServer(t *testing.T, srv *api.Server, cfg *config.Config) {
	routes := srv.Routes()
	seen := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		seen[key] = true
		want, ok := serverPolicy[key]
		if !ok {
			t.Errorf("route %s (rule %q) has no entry in the reviewed policy", key, r.Rule)
		} else if string(r.Rule) != want {
			t.Errorf("route %s: rule %q, policy says %q", key, r.Rule, want)
		}
		// Sanity of the rules themselves.
		switch {
		case strings.HasPrefix(r.Path, "/api/2/") && r.Rule != api.Basic:
			t.Errorf("route %s: Amplitude-compatible read APIs authenticate with the project keys", key)
		case strings.Contains(r.Path, "{project}") && !strings.HasPrefix(string(r.Rule), "project:") && !strings.HasPrefix(string(r.Rule), "page:"):
			t.Errorf("route %s: a project path needs a project rule", key)
		case isWrite(r.Method) && string(r.Rule) == "project:viewer" && !readOnlyPOST[r.Path]:
			t.Errorf("route %s: viewers may not change anything", key)
		}
	}
	for key := range serverPolicy {
		if !seen[key] {
			t.Errorf("policy entry %s is not registered", key)
		}
	}

	ctx := t.Context()
	m, err := sqlite.Open(ctx, cfg.MetaPath())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	own, _, _, err := m.EnsureDefault(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword("correct horse battery", auth.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	account := func(email string) meta.Account {
		a, err := m.CreateAccount(ctx, email, hash)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	viewer, otherAdmin := account("viewer@example.com"), account("other-admin@example.com")
	if err := m.SetMember(ctx, own.OrgID, viewer.ID, meta.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateOrg(ctx, "Other", otherAdmin.ID); err != nil {
		t.Fatal(err)
	}

	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	login := func(email string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.Post(ts.URL+"/api/v1/login", "application/json",
			strings.NewReader(`{"email":"`+email+`","password":"correct horse battery"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("login %s: %d", email, resp.StatusCode)
		}
		return c
	}
	type caller struct {
		name   string
		client *http.Client
		basic  [2]string
	}
	callers := []caller{
		{name: "anonymous", client: &http.Client{}},
		{name: "wrong secret key", client: &http.Client{}, basic: [2]string{cfg.APIKey, "not-the-secret-key"}},
		{name: "viewer", client: login("viewer@example.com")},
		{name: "other-org admin", client: login("other-admin@example.com")},
	}
	refusals := 0
	ids := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, r := range routes {
		rule := string(r.Rule)
		if rule == "public" || rule == "ingest-key" || strings.HasPrefix(rule, "page:") {
			// Open by design: ingestion checks the api_key in the body; a
			// page is served to all and does more only for members
			// (internal/api/page_rule_test.go).
			continue
		}
		path := strings.ReplaceAll(r.Path, "{project}", itoa(own.ID))
		path = strings.ReplaceAll(path, "{org}", itoa(own.OrgID))
		path = ids.ReplaceAllString(path, "1")
		for _, c := range callers {
			allowed := false
			switch c.name {
			case "viewer":
				allowed = rule == "session" || rule == "project:viewer" || rule == "org:viewer"
			case "other-org admin":
				allowed = rule == "session"
			}
			if allowed {
				continue
			}
			req, _ := http.NewRequestWithContext(ctx, r.Method, ts.URL+path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", ts.URL)
			if c.basic[0] != "" {
				req.SetBasicAuth(c.basic[0], c.basic[1])
			}
			if u, _ := req.URL.Parse(ts.URL); c.client.Jar != nil {
				for _, ck := range c.client.Jar.Cookies(u) {
					if ck.Name == auth.CSRFCookie {
						req.Header.Set(auth.CSRFHeader, ck.Value) // a valid CSRF token: the role must refuse
					}
				}
			}
			resp, err := c.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 && resp.StatusCode != 403 && resp.StatusCode != 404 {
				t.Errorf("%s %s as %s: %d, want a refusal (401/403/404)", r.Method, r.Path, c.name, resp.StatusCode)
			}
			refusals++
		}
	}
	if refusals < 100 {
		t.Fatalf("only %d refusals checked: the walk did not reach the routes", refusals)
	}
	t.Logf("%d routes, %d refusals checked", len(routes), refusals)
}

// readOnlyPOST are POST routes that only read: the analysis definition
// travels in the body.
var readOnlyPOST = map[string]bool{
	"/api/v1/projects/{project}/query":       true,
	"/api/v1/projects/{project}/query/users": true,
}

func isWrite(method string) bool {
	switch method {
	case "POST", "PUT", "PATCH", "DELETE":
		return true
	}
	return false
}

func itoa(n int64) string { return strconvFormat(n) }

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }
