package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
)

// client is a browser-like client of a running test server: a cookie jar
// and the CSRF header echoed from the crest_csrf cookie.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, hc: &http.Client{Jar: jar}}
}

func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, k := range c.hc.Jar.Cookies(u) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

// call sends a JSON request and decodes the JSON answer into out (if
// non-nil), failing the test unless the status is want.
func (c *client) call(method, path string, body any, want int, out any) http.Header {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.base)
	if tok := c.cookie(auth.CSRFCookie); tok != "" {
		req.Header.Set(auth.CSRFHeader, tok)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.Header
}

// basic calls the Basic-auth probe route and returns the status.
func basic(t *testing.T, base, user, pass string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/2/probe", nil)
	req.SetBasicAuth(user, pass)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// ingest calls the ingestion stand-in and returns the status.
func ingest(t *testing.T, base, apiKey string) int {
	t.Helper()
	res, err := http.Post(base+"/2/httpapi", "text/plain", strings.NewReader(`{"api_key":"`+apiKey+`","events":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestEndToEndSecretsStayOutOfLogs drives the API over HTTP through
// setup, login, projects, keys, invitations and password changes, then
// checks the log holds none of the secrets used.
func TestEndToEndSecretsStayOutOfLogs(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, defKeys, _, err := e.store.EnsureDefault(ctx, "aaaabbbbccccddddeeeeffff00001111", "")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e.srv.Handler())
	defer ts.Close()
	secrets := map[string]string{"default api key": defKeys.APIKey, "default secret key": defKeys.SecretKey}

	admin := newClient(t, ts.URL)
	var status struct{ Needed bool }
	admin.call("GET", "/api/v1/setup", nil, 200, &status)
	if !status.Needed {
		t.Fatal("setup not needed on an empty store")
	}
	const adminPW = "Adm1n-Passw0rd-xyz"
	secrets["admin password"] = adminPW
	var setup struct {
		Project projectJSON `json:"project"`
	}
	admin.call("POST", "/api/v1/setup", map[string]string{"email": "root@example.com", "password": adminPW,
		"org_name": "Acme", "project_name": "Web", "time_zone": "Europe/Paris"}, 201, &setup)
	admin.call("POST", "/api/v1/setup", map[string]string{"email": "x@example.com", "password": adminPW}, 409, nil)
	secrets["setup session"] = admin.cookie(auth.SessionCookie)

	// Log in again (a second session) and use it.
	admin.call("POST", "/api/v1/logout", nil, 204, nil)
	admin.call("GET", "/api/v1/me", nil, 401, nil)
	admin.call("POST", "/api/v1/login", map[string]string{"email": "ROOT@example.com", "password": "wrong-password-1"}, 401, nil)
	admin.call("POST", "/api/v1/login", map[string]string{"email": "root@example.com", "password": adminPW}, 200, nil)
	secrets["admin session"] = admin.cookie(auth.SessionCookie)
	secrets["admin csrf"] = admin.cookie(auth.CSRFCookie)
	var me struct {
		Account accountJSON `json:"account"`
		Orgs    []orgJSON   `json:"orgs"`
	}
	admin.call("GET", "/api/v1/me", nil, 200, &me)
	if len(me.Orgs) != 1 || me.Orgs[0].Name != "Acme" || me.Orgs[0].Role != meta.RoleAdmin {
		t.Fatalf("me = %+v", me)
	}
	org := strconv.FormatInt(me.Orgs[0].ID, 10)

	// A new project with keys; rotate both; use them.
	var created struct {
		Project   projectJSON `json:"project"`
		APIKey    string      `json:"api_key"`
		SecretKey string      `json:"secret_key"`
	}
	admin.call("POST", "/api/v1/orgs/"+org+"/projects", map[string]string{"name": "App", "time_zone": "America/New_York"}, 201, &created)
	admin.call("POST", "/api/v1/orgs/"+org+"/projects", map[string]string{"name": "Bad", "time_zone": "Mars/Olympus"}, 400, nil)
	secrets["project api key"], secrets["project secret key"] = created.APIKey, created.SecretKey
	proj := "/api/v1/projects/" + strconv.FormatInt(created.Project.ID, 10)
	if got := basic(t, ts.URL, created.APIKey, created.SecretKey); got != 200 {
		t.Fatalf("basic with new keys = %d", got)
	}
	if got := ingest(t, ts.URL, created.APIKey); got != 200 {
		t.Fatalf("ingest with new key = %d", got)
	}
	var rot struct {
		Value string `json:"value"`
	}
	admin.call("POST", proj+"/keys/rotate", map[string]any{"kind": "secret", "grace_seconds": 3600}, 200, &rot)
	secrets["rotated secret key"] = rot.Value
	admin.call("POST", proj+"/keys/rotate", map[string]any{"kind": "api", "grace_seconds": 0}, 200, &rot)
	secrets["rotated api key"] = rot.Value
	if got := basic(t, ts.URL, rot.Value, secrets["rotated secret key"]); got != 200 {
		t.Fatalf("basic with rotated keys = %d", got)
	}
	if got := ingest(t, ts.URL, created.APIKey); got != 400 {
		t.Fatalf("ingest with an API key rotated without grace = %d", got)
	}
	var reveal struct {
		APIKey string `json:"api_key"`
	}
	admin.call("GET", proj+"/api-key", nil, 200, &reveal)
	if reveal.APIKey != rot.Value {
		t.Fatalf("revealed %q, want the rotated key", reveal.APIKey)
	}
	var keys list[keyJSON]
	admin.call("GET", proj+"/keys", nil, 200, &keys)
	for _, k := range keys.Items {
		if k.Kind == meta.KeySecret && k.Value != "" {
			t.Fatal("key list shows a secret key")
		}
	}

	// Invite a viewer by link; they sign up, change their password and
	// cannot change the project.
	var inv struct {
		Token string `json:"token"`
	}
	admin.call("POST", "/api/v1/orgs/"+org+"/invitations", map[string]any{"role": "viewer"}, 201, &inv)
	secrets["invitation token"] = inv.Token
	anon := newClient(t, ts.URL)
	anon.call("GET", "/api/v1/invitations/"+inv.Token, nil, 200, nil)
	viewer := newClient(t, ts.URL)
	const viewerPW, viewerPW2 = "Vi3wer-first-pass", "Vi3wer-second-pass"
	secrets["viewer password"], secrets["viewer password 2"] = viewerPW, viewerPW2
	viewer.call("POST", "/api/v1/invitations/"+inv.Token+"/signup", map[string]string{"email": "v@example.com", "password": viewerPW}, 201, nil)
	anon.call("GET", "/api/v1/invitations/"+inv.Token, nil, 404, nil)
	secrets["viewer session"] = viewer.cookie(auth.SessionCookie)
	viewer.call("POST", "/api/v1/me/password", map[string]string{"current_password": viewerPW, "new_password": viewerPW2}, 204, nil)
	viewer.call("GET", proj, nil, 200, nil)
	viewer.call("PATCH", proj, map[string]string{"name": "mine"}, 403, nil)
	viewer.call("POST", proj+"/keys/rotate", map[string]any{"kind": "api"}, 403, nil)
	viewer.call("GET", "/api/v1/orgs/"+org+"/audit", nil, 403, nil)

	var audit list[auditJSON]
	admin.call("GET", "/api/v1/orgs/"+org+"/audit", nil, 200, &audit)
	actions := map[string]bool{}
	for _, a := range audit.Items {
		actions[a.Action] = true
		if a.RemoteAddr == "" || a.At.IsZero() {
			t.Errorf("audit entry without address or time: %+v", a)
		}
	}
	for _, want := range []string{"setup", "project.create", "key.rotate", "invitation.create", "invitation.accept"} {
		if !actions[want] {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}

	logs := e.logs.String()
	if !strings.Contains(logs, `"msg":"http request"`) || !strings.Contains(logs, `"route":"POST /api/v1/login"`) {
		t.Fatalf("log lacks request lines:\n%s", logs)
	}
	for what, s := range secrets {
		if s == "" {
			t.Errorf("%s: empty secret in the test", what)
			continue
		}
		if strings.Contains(logs, s) {
			t.Errorf("log contains the %s", what)
		}
		if strings.Contains(audit2string(audit), s) {
			t.Errorf("audit log contains the %s", what)
		}
	}
}

func audit2string(l list[auditJSON]) string {
	b, _ := json.Marshal(l)
	return string(b)
}

func TestKeyRotationGrace(t *testing.T) {
	e := newEnv(t)
	_, keys, _, err := e.store.EnsureDefault(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e.srv.Handler())
	defer ts.Close()
	c := newClient(t, ts.URL)
	c.call("POST", "/api/v1/setup", map[string]string{"email": "a@example.com", "password": "long enough"}, 201, nil)
	var listed list[projectJSON]
	c.call("GET", "/api/v1/projects", nil, 200, &listed)
	proj := "/api/v1/projects/" + strconv.FormatInt(listed.Items[0].ID, 10)

	c.call("POST", proj+"/keys/rotate", map[string]any{"kind": "api", "grace_seconds": -1}, 400, nil)
	c.call("POST", proj+"/keys/rotate", map[string]any{"kind": "both"}, 400, nil)
	var api, secret struct {
		Value string `json:"value"`
	}
	c.call("POST", proj+"/keys/rotate", map[string]any{"kind": "api", "grace_seconds": 24 * 3600}, 200, &api)
	c.call("POST", proj+"/keys/rotate", map[string]any{"kind": "secret", "grace_seconds": 3600}, 200, &secret)

	check := func(when string, user, pass string, want int) {
		t.Helper()
		if got := basic(t, ts.URL, user, pass); got != want {
			t.Errorf("%s: basic = %d, want %d", when, got, want)
		}
	}
	check("in grace", keys.APIKey, keys.SecretKey, 200)
	check("in grace", api.Value, secret.Value, 200)
	check("in grace, mixed", keys.APIKey, secret.Value, 200)
	e.clock.add(time.Hour - time.Second)
	check("just before the secret's grace ends", api.Value, keys.SecretKey, 200)
	e.clock.add(time.Second)
	check("secret grace over", api.Value, keys.SecretKey, 401)
	check("secret grace over, new secret", keys.APIKey, secret.Value, 200)
	if got := ingest(t, ts.URL, keys.APIKey); got != 200 {
		t.Errorf("old API key within its grace: ingest = %d", got)
	}
	e.clock.add(23 * time.Hour)
	check("api grace over", keys.APIKey, secret.Value, 401)
	check("new keys", api.Value, secret.Value, 200)
	if got := ingest(t, ts.URL, keys.APIKey); got != 400 {
		t.Errorf("old API key after grace: ingest = %d", got)
	}
	var ks list[keyJSON]
	c.call("GET", proj+"/keys", nil, 200, &ks)
	active := 0
	for _, k := range ks.Items {
		if k.Active {
			active++
			if k.Expires != nil {
				t.Errorf("active key with expiry after grace: %+v", k)
			}
		} else if k.Expires == nil {
			t.Errorf("inactive key without expiry: %+v", k)
		}
	}
	if len(ks.Items) != 4 || active != 2 {
		t.Errorf("keys = %+v; want 4 with 2 active", ks.Items)
	}
}

func TestLoginThrottledOverHTTP(t *testing.T) {
	e := newEnv(t)
	ts := httptest.NewServer(e.srv.Handler())
	defer ts.Close()
	c := newClient(t, ts.URL)
	c.call("POST", "/api/v1/setup", map[string]string{"email": "a@example.com", "password": "long enough"}, 201, nil)
	for range auth.DefaultAccountLimit {
		c.call("POST", "/api/v1/login", map[string]string{"email": "a@example.com", "password": "nope nope"}, 401, nil)
	}
	h := c.call("POST", "/api/v1/login", map[string]string{"email": "a@example.com", "password": "long enough"}, 429, nil)
	if got := h.Get("Retry-After"); got != "900" {
		t.Errorf("Retry-After = %q, want 900", got)
	}
	e.clock.add(auth.DefaultThrottleWindow)
	c.call("POST", "/api/v1/login", map[string]string{"email": "a@example.com", "password": "long enough"}, 200, nil)
}

func TestSessionExpiryAndRevocationOverHTTP(t *testing.T) {
	e := newEnv(t)
	ts := httptest.NewServer(e.srv.Handler())
	defer ts.Close()
	a := newClient(t, ts.URL)
	a.call("POST", "/api/v1/setup", map[string]string{"email": "a@example.com", "password": "long enough"}, 201, nil)
	b := newClient(t, ts.URL)
	b.call("POST", "/api/v1/login", map[string]string{"email": "a@example.com", "password": "long enough"}, 200, nil)

	var ss list[sessionJSON]
	a.call("GET", "/api/v1/me/sessions", nil, 200, &ss)
	if len(ss.Items) != 2 {
		t.Fatalf("sessions = %+v", ss.Items)
	}
	var other int64
	for _, s := range ss.Items {
		if !s.Current {
			other = s.ID
		}
	}
	a.call("DELETE", "/api/v1/me/sessions/"+strconv.FormatInt(other, 10), nil, 204, nil)
	b.call("GET", "/api/v1/me", nil, 401, nil)

	// Idle expiry: active within 14 days keeps the session; 14 idle days end it.
	e.clock.add(13 * 24 * time.Hour)
	a.call("GET", "/api/v1/me", nil, 200, nil)
	e.clock.add(auth.DefaultIdleTimeout)
	a.call("GET", "/api/v1/me", nil, 401, nil)

	// Admin revocation of a member's sessions.
	a.call("POST", "/api/v1/login", map[string]string{"email": "a@example.com", "password": "long enough"}, 200, nil)
	var me struct {
		Orgs []orgJSON `json:"orgs"`
	}
	a.call("GET", "/api/v1/me", nil, 200, &me)
	org := "/api/v1/orgs/" + strconv.FormatInt(me.Orgs[0].ID, 10)
	var m memberJSON
	a.call("POST", org+"/members", map[string]string{"email": "m@example.com", "password": "member pass", "role": "member"}, 201, &m)
	mc := newClient(t, ts.URL)
	mc.call("POST", "/api/v1/login", map[string]string{"email": "m@example.com", "password": "member pass"}, 200, nil)
	mc.call("GET", "/api/v1/projects", nil, 200, nil)
	a.call("POST", org+"/members/"+strconv.FormatInt(m.AccountID, 10)+"/revoke-sessions", nil, 204, nil)
	mc.call("GET", "/api/v1/projects", nil, 401, nil)
	// The last admin cannot be demoted.
	var self struct {
		Account accountJSON `json:"account"`
	}
	a.call("GET", "/api/v1/me", nil, 200, &self)
	a.call("PATCH", org+"/members/"+strconv.FormatInt(self.Account.ID, 10), map[string]string{"role": "viewer"}, 409, nil)
}

// TestViewerCannotChangeAnything sends every state-changing route, with
// real handlers and a valid CSRF pair, as a viewer of the org and project,
// and checks each is refused and nothing changed.
func TestViewerCannotChangeAnything(t *testing.T) {
	w := newWorld(t)
	viewer := w.callers[1]
	before, err := w.store.Audit(t.Context(), w.orgA, 1000)
	if err != nil {
		t.Fatal(err)
	}
	p0, err := w.store.Project(t.Context(), w.projA)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range w.srv.Routes() {
		if _, _, ok := rt.Rule.role(); !ok || auth.SafeMethod(rt.Method) {
			continue
		}
		body := `{"role":"admin","name":"x","time_zone":"UTC","kind":"api","email":"q@example.com","password":"long enough"}`
		rec := w.do(viewer, rt.Method, w.fill(rt.Path, "own"), body, true)
		if rec.Code != http.StatusForbidden {
			t.Errorf("viewer %s %s: status %d, want 403", rt.Method, rt.Path, rec.Code)
		}
	}
	after, err := w.store.Audit(t.Context(), w.orgA, 1000)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := w.store.Project(t.Context(), w.projA)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || p1 != p0 {
		t.Errorf("viewer changed state: audit %d→%d, project %+v→%+v", len(before), len(after), p0, p1)
	}
}

func TestUnknownAPIPathIsJSON404(t *testing.T) {
	e := newEnv(t)
	rec := e.do(caller{}, "GET", "/api/v1/nope", "", false)
	var env envelope
	if rec.Code != 404 || json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.Error.Code != "not_found" {
		t.Fatalf("status %d body %s", rec.Code, rec.Body)
	}
}

func TestInvitationsAndMemberAdmin(t *testing.T) {
	e := newEnv(t)
	ts := httptest.NewServer(e.srv.Handler())
	defer ts.Close()
	admin := newClient(t, ts.URL)
	admin.call("POST", "/api/v1/setup", map[string]string{"email": "a@example.com", "password": "long enough"}, 201, nil)
	var me struct {
		Orgs []orgJSON `json:"orgs"`
	}
	admin.call("GET", "/api/v1/me", nil, 200, &me)
	org := "/api/v1/orgs/" + strconv.FormatInt(me.Orgs[0].ID, 10)

	// An existing account (another org's admin) accepts a bound invitation.
	other := newClient(t, ts.URL)
	var m memberJSON
	admin.call("POST", org+"/members", map[string]string{"email": "b@example.com", "password": "b password", "role": "viewer"}, 201, &m)
	admin.call("DELETE", org+"/members/"+strconv.FormatInt(m.AccountID, 10), nil, 204, nil)
	other.call("POST", "/api/v1/login", map[string]string{"email": "b@example.com", "password": "b password"}, 200, nil)
	var list0 list[projectJSON]
	other.call("GET", "/api/v1/projects", nil, 200, &list0)
	if len(list0.Items) != 0 {
		t.Fatalf("removed member still sees %+v", list0.Items)
	}
	var bound, forC struct {
		Token string `json:"token"`
	}
	admin.call("POST", org+"/invitations", map[string]any{"role": "member", "email": "b@example.com"}, 201, &bound)
	admin.call("POST", org+"/invitations", map[string]any{"role": "member", "email": "c@example.com", "expires_hours": 1}, 201, &forC)
	admin.call("POST", org+"/invitations", map[string]any{"role": "owner"}, 400, nil)
	other.call("POST", "/api/v1/invitations/"+forC.Token+"/accept", nil, 403, nil)
	other.call("POST", "/api/v1/invitations/"+bound.Token+"/accept", nil, 200, nil)
	other.call("POST", "/api/v1/invitations/"+bound.Token+"/accept", nil, 404, nil)
	var list1 list[projectJSON]
	other.call("GET", "/api/v1/projects", nil, 200, &list1)
	if len(list1.Items) != 1 || list1.Items[0].Role != meta.RoleMember {
		t.Fatalf("after accepting: %+v", list1.Items)
	}

	// Per-project override down to viewer, then removed.
	proj := "/api/v1/projects/" + strconv.FormatInt(list1.Items[0].ID, 10)
	acct := "/roles/" + strconv.FormatInt(m.AccountID, 10)
	admin.call("PUT", proj+acct, map[string]string{"role": "viewer"}, 204, nil)
	other.call("GET", proj, nil, 200, &list1.Items[0])
	if list1.Items[0].Role != meta.RoleViewer {
		t.Errorf("override not applied: role %s", list1.Items[0].Role)
	}
	admin.call("DELETE", proj+acct, nil, 204, nil)
	admin.call("PUT", proj+"/roles/999", map[string]string{"role": "viewer"}, 404, nil)

	// Expired invitation.
	e.clock.add(time.Hour)
	newClient(t, ts.URL).call("GET", "/api/v1/invitations/"+forC.Token, nil, 404, nil)

	// Disabling logs out and blocks login; enabling restores it.
	id := strconv.FormatInt(m.AccountID, 10)
	admin.call("POST", org+"/members/"+id+"/disable", nil, 204, nil)
	other.call("GET", "/api/v1/me", nil, 401, nil)
	other.call("POST", "/api/v1/login", map[string]string{"email": "b@example.com", "password": "b password"}, 401, nil)
	admin.call("POST", org+"/members/"+id+"/enable", nil, 204, nil)
	other.call("POST", "/api/v1/login", map[string]string{"email": "b@example.com", "password": "b password"}, 200, nil)

	// Project settings: rename and time zone validation.
	var p projectJSON
	admin.call("PATCH", proj, map[string]string{"name": "Renamed", "time_zone": "Asia/Tokyo"}, 200, &p)
	if p.Name != "Renamed" || p.TimeZone != "Asia/Tokyo" {
		t.Errorf("updated project = %+v", p)
	}
	admin.call("PATCH", proj, map[string]string{"time_zone": "Local"}, 400, nil)
	admin.call("PATCH", proj, map[string]string{"time_zone": "Nowhere/City"}, 400, nil)
	admin.call("PATCH", proj, map[string]string{"name": "  "}, 400, nil)
}
