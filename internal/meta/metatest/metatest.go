// Package metatest is the conformance suite every meta.Store backend
// runs (internal/meta/sqlite, internal/meta/postgres): the same calls,
// the same answers.
package metatest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

// Clock is the settable clock a store under test reads; the suite moves
// it to test expiry.
type Clock struct{ T time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.T }

// Open returns a new, empty store whose clock is now, closed by
// t.Cleanup.
type Open func(t *testing.T, now func() time.Time) meta.Store

// Run runs the suite, each case on a new store.
func Run(t *testing.T, open Open) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s meta.Store, c *Clock)
	}{
		{"EnsureDefault", testEnsureDefault},
		{"RotateKeyGrace", testRotateKeyGrace},
		{"SetupFirstAdminOnce", testSetupFirstAdminOnce},
		{"InvitationAcceptOnce", testInvitationAcceptOnce},
		{"SessionsRevoke", testSessionsRevoke},
		{"ChartsAndDashboards", testChartsAndDashboards},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{T: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			tc.fn(t, open(t, c.Now), c)
		})
	}
}

func testEnsureDefault(t *testing.T, s meta.Store, c *Clock) {
	ctx := t.Context()
	p, keys, created, err := s.EnsureDefault(ctx, "0123456789abcdef0123456789abcdef", "")
	if err != nil || !created {
		t.Fatalf("EnsureDefault = %v, %v", created, err)
	}
	if keys.APIKey != "0123456789abcdef0123456789abcdef" || len(keys.SecretKey) != 32 || p.TimeZone != "UTC" {
		t.Fatalf("keys %+v project %+v", keys, p)
	}
	p2, keys2, created, err := s.EnsureDefault(ctx, "", "")
	if err != nil || created || p2.ID != p.ID || keys2 != (meta.DefaultKeys{}) {
		t.Fatalf("second EnsureDefault = %+v %+v %v %v", p2, keys2, created, err)
	}
	if got, ok, err := s.ProjectByKeys(ctx, keys.APIKey, keys.SecretKey); err != nil || !ok || got.ID != p.ID {
		t.Fatalf("ProjectByKeys = %v %v %v", got, ok, err)
	}
	for _, c := range [][2]string{{keys.APIKey, "wrong"}, {keys.SecretKey, keys.SecretKey}, {"", ""}, {keys.APIKey, ""}} {
		if _, ok, err := s.ProjectByKeys(ctx, c[0], c[1]); err != nil || ok {
			t.Errorf("ProjectByKeys(%q,%q) = %v %v; want false", c[0], c[1], ok, err)
		}
	}
	ks, err := s.Keys(ctx, p.ID)
	if err != nil || len(ks) != 2 {
		t.Fatalf("Keys = %v %v", ks, err)
	}
	for _, k := range ks {
		if k.Kind == meta.KeySecret && k.Value != "" {
			t.Errorf("secret key value stored: %+v", k)
		}
	}
}

func testRotateKeyGrace(t *testing.T, s meta.Store, c *Clock) {
	ctx := t.Context()
	p, keys, _, err := s.EnsureDefault(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	newAPI, _ := meta.NewKey()
	if _, err := s.RotateKey(ctx, p.ID, meta.KeyAPI, newAPI, c.T.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check := func(key string, want bool) {
		t.Helper()
		_, ok, err := s.ProjectByAPIKey(ctx, key)
		if err != nil || ok != want {
			t.Errorf("ProjectByAPIKey(%s) at %v = %v, %v; want %v", key, c.T, ok, err, want)
		}
	}
	check(keys.APIKey, true)
	check(newAPI, true)
	c.T = c.T.Add(time.Hour)
	check(keys.APIKey, false)
	check(newAPI, true)
}

func testSetupFirstAdminOnce(t *testing.T, s meta.Store, c *Clock) {
	ctx := t.Context()
	a, p, err := s.SetupFirstAdmin(ctx, meta.Setup{Email: "Root@Example.com", PasswordHash: "h", OrgName: "Acme", ProjectName: "Web", TimeZone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Email != "root@example.com" || p.Name != "Web" || p.TimeZone != "Europe/Paris" {
		t.Fatalf("setup = %+v %+v", a, p)
	}
	if r, ok, err := s.MemberRole(ctx, p.OrgID, a.ID); err != nil || !ok || r != meta.RoleAdmin {
		t.Fatalf("MemberRole = %v %v %v", r, ok, err)
	}
	o, err := s.Org(ctx, p.OrgID)
	if err != nil || o.Name != "Acme" {
		t.Fatalf("Org = %+v %v", o, err)
	}
	if _, _, err := s.SetupFirstAdmin(ctx, meta.Setup{Email: "x@example.com", PasswordHash: "h"}); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("second setup err = %v; want ErrConflict", err)
	}
	if _, err := s.CreateAccount(ctx, "ROOT@example.com", "h"); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("duplicate account err = %v; want ErrConflict", err)
	}
}

func testInvitationAcceptOnce(t *testing.T, s meta.Store, c *Clock) {
	ctx := t.Context()
	a, p, err := s.SetupFirstAdmin(ctx, meta.Setup{Email: "a@example.com", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateAccount(ctx, "b@example.com", "h")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.CreateInvitation(ctx, meta.Invitation{OrgID: p.OrgID, Role: meta.RoleViewer, TokenHash: meta.HashSecret("t"), CreatedBy: a.ID, Created: c.T, Expires: c.T.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AcceptInvitation(ctx, inv.ID, b.ID, c.T); err != nil {
		t.Fatal(err)
	}
	if err := s.AcceptInvitation(ctx, inv.ID, b.ID, c.T); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("second accept = %v; want ErrConflict", err)
	}
	if r, ok, _ := s.MemberRole(ctx, p.OrgID, b.ID); !ok || r != meta.RoleViewer {
		t.Fatalf("role = %v %v", r, ok)
	}
	if err := s.SetProjectRole(ctx, p.ID, b.ID, meta.RoleMember); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx, p.OrgID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.ProjectRole(ctx, p.ID, b.ID); ok {
		t.Fatal("project override survived member removal")
	}
}

func testSessionsRevoke(t *testing.T, s meta.Store, c *Clock) {
	ctx := t.Context()
	a, err := s.CreateAccount(ctx, "a@example.com", "h")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, h := range []string{"h1", "h2", "h3"} {
		x, err := s.CreateSession(ctx, meta.Session{AccountID: a.ID, TokenHash: h, Created: c.T, LastSeen: c.T, Expires: c.T.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, x.ID)
	}
	if err := s.RevokeSessions(ctx, a.ID, ids[0]); err != nil {
		t.Fatal(err)
	}
	got, err := s.Sessions(ctx, a.ID)
	if err != nil || len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("Sessions = %+v %v", got, err)
	}
	if err := s.RevokeSession(ctx, a.ID+1, ids[0]); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("revoke someone else's session = %v; want ErrNotFound", err)
	}
}

func testChartsAndDashboards(t *testing.T, s meta.Store, clk *Clock) {
	ctx := t.Context()
	p, _, _, err := s.EnsureDefault(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateProject(ctx, p.OrgID, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	def := json.RawMessage(`{"type":"segmentation","version":1}`)
	c, err := s.CreateChart(ctx, meta.Chart{ProjectID: p.ID, Name: "DAU", Definition: def, CreatedBy: 7})
	if err != nil || c.ID == 0 || string(c.Options) != "{}" || c.CreatedBy != 7 || !c.Created.Equal(clk.T) {
		t.Fatalf("CreateChart = %+v, %v", c, err)
	}
	// Scoped to the project: the other project cannot see or change it.
	if _, err := s.Chart(ctx, other.ID, c.ID); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("Chart in other project: %v", err)
	}
	if _, err := s.UpdateChart(ctx, meta.Chart{ProjectID: other.ID, ID: c.ID, Name: "x"}); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("UpdateChart in other project: %v", err)
	}
	if err := s.DeleteChart(ctx, other.ID, c.ID); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("DeleteChart in other project: %v", err)
	}
	clk.T = clk.T.Add(time.Minute)
	c.Name, c.Description, c.Options = "Daily users", "who came", json.RawMessage(`{"viz":"bar"}`)
	u, err := s.UpdateChart(ctx, c)
	if err != nil || u.Name != "Daily users" || u.Description != "who came" || string(u.Options) != `{"viz":"bar"}` || !u.Updated.Equal(clk.T) || !u.Created.Equal(c.Created) {
		t.Fatalf("UpdateChart = %+v, %v", u, err)
	}
	list, err := s.Charts(ctx, p.ID)
	if err != nil || len(list) != 1 || list[0].ID != c.ID || string(list[0].Definition) != string(def) {
		t.Fatalf("Charts = %+v, %v", list, err)
	}

	d, err := s.CreateDashboard(ctx, meta.Dashboard{ProjectID: p.ID, Name: "Growth"})
	if err != nil || d.ID == 0 || d.Items == nil || len(d.Items) != 0 {
		t.Fatalf("CreateDashboard = %+v, %v", d, err)
	}
	d.Items = []meta.DashboardItem{{ChartID: c.ID, Width: 6, Height: 2}, {ChartID: c.ID, Width: 12, Height: 1}}
	d2, err := s.UpdateDashboard(ctx, d)
	if err != nil || len(d2.Items) != 2 || d2.Items[1].Width != 12 {
		t.Fatalf("UpdateDashboard = %+v, %v", d2, err)
	}
	got, err := s.Dashboard(ctx, p.ID, d.ID)
	if err != nil || len(got.Items) != 2 || got.Items[0] != d.Items[0] {
		t.Fatalf("Dashboard = %+v, %v", got, err)
	}
	if l, err := s.Dashboards(ctx, other.ID); err != nil || len(l) != 0 {
		t.Fatalf("Dashboards(other) = %+v, %v", l, err)
	}
	if err := s.DeleteDashboard(ctx, p.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChart(ctx, p.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Dashboard(ctx, p.ID, d.ID); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("deleted dashboard: %v", err)
	}
	if l, err := s.Charts(ctx, p.ID); err != nil || len(l) != 0 {
		t.Fatalf("Charts after delete = %+v, %v", l, err)
	}
}
