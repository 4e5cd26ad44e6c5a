package postgres

// The tests below store_test.go and charts_test.go are those of
// internal/meta/sqlite, run against PostgreSQL; keep them in step.

import (
	"errors"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T) (*Store, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s, err := Open(t.Context(), testDSN(t), WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

func TestReopenKeepsSchemaVersion(t *testing.T) {
	path := testDSN(t)
	for range 2 {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.SchemaVersion(t.Context())
		if err != nil || v != len(migrations) {
			t.Fatalf("schema version = %d, %v; want %d", v, err, len(migrations))
		}
		s.Close()
	}
}

func TestEnsureDefault(t *testing.T) {
	s, _ := open(t)
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

func TestRotateKeyGrace(t *testing.T) {
	s, c := open(t)
	ctx := t.Context()
	p, keys, _, err := s.EnsureDefault(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	newAPI, _ := meta.NewKey()
	if _, err := s.RotateKey(ctx, p.ID, meta.KeyAPI, newAPI, c.t.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check := func(key string, want bool) {
		t.Helper()
		_, ok, err := s.ProjectByAPIKey(ctx, key)
		if err != nil || ok != want {
			t.Errorf("ProjectByAPIKey(%s) at %v = %v, %v; want %v", key, c.t, ok, err, want)
		}
	}
	check(keys.APIKey, true)
	check(newAPI, true)
	c.t = c.t.Add(time.Hour)
	check(keys.APIKey, false)
	check(newAPI, true)
}

func TestSetupFirstAdminOnce(t *testing.T) {
	s, _ := open(t)
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

func TestInvitationAcceptOnce(t *testing.T) {
	s, c := open(t)
	ctx := t.Context()
	a, p, err := s.SetupFirstAdmin(ctx, meta.Setup{Email: "a@example.com", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateAccount(ctx, "b@example.com", "h")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.CreateInvitation(ctx, meta.Invitation{OrgID: p.OrgID, Role: meta.RoleViewer, TokenHash: meta.HashSecret("t"), CreatedBy: a.ID, Created: c.t, Expires: c.t.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AcceptInvitation(ctx, inv.ID, b.ID, c.t); err != nil {
		t.Fatal(err)
	}
	if err := s.AcceptInvitation(ctx, inv.ID, b.ID, c.t); !errors.Is(err, meta.ErrConflict) {
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

func TestSessionsRevoke(t *testing.T) {
	s, c := open(t)
	ctx := t.Context()
	a, err := s.CreateAccount(ctx, "a@example.com", "h")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, h := range []string{"h1", "h2", "h3"} {
		x, err := s.CreateSession(ctx, meta.Session{AccountID: a.ID, TokenHash: h, Created: c.t, LastSeen: c.t, Expires: c.t.Add(time.Hour)})
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
