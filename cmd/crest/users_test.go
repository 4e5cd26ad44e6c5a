package main

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/meta/sqlite"
)

func TestUsersCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	t.Setenv("CREST_API_KEY", "")
	t.Setenv("CREST_SECRET_KEY", "")
	users := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := runUsersWith(ctx, append(args, "--data", dir), strings.NewReader(stdin), &out, &errOut)
		return out.String() + errOut.String(), err
	}

	out, err := users("first-password\n", "create", "--admin", "--email", "Op@Example.com", "--password-stdin")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if !strings.Contains(out, "API key:") || !strings.Contains(out, "op@example.com (admin") {
		t.Errorf("create output:\n%s", out)
	}
	if _, err := users("another-password\n", "create", "--email", "op@example.com", "--password-stdin"); err == nil {
		t.Error("second create of the same email succeeded")
	}
	if _, err := users("short\n", "create", "--email", "x@example.com", "--password-stdin"); !errors.Is(err, auth.ErrWeakPassword) {
		t.Errorf("short password: err = %v", err)
	}
	if _, err := users("prompted-pass\nprompted-pasz\n", "create", "--email", "y@example.com"); err == nil {
		t.Error("differing prompted passwords accepted")
	}
	if out, err := users("prompted-pass\nprompted-pass\n", "create", "--email", "m@example.com"); err != nil || !strings.Contains(out, "(member") {
		t.Errorf("prompted create = %v\n%s", err, out)
	}
	if _, err := users("x\n", "reset-password", "--email", "nobody@example.com", "--password-stdin"); err == nil {
		t.Error("reset of an unknown account succeeded")
	}
	if out, err := users("second-password\n", "reset-password", "--email", "op@example.com", "--password-stdin"); err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	for _, sub := range []string{"create", "reset-password"} {
		if _, err := users("", sub, "--help"); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s --help: err = %v, want flag.ErrHelp", sub, err)
		}
	}
	if _, err := users("", "frobnicate"); !errors.Is(err, errUsage) {
		t.Errorf("unknown subcommand: err = %v", err)
	}

	st, err := sqlite.Open(ctx, filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.AccountByEmail(ctx, "op@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.VerifyPassword(a.PasswordHash, "second-password"); err != nil || !ok {
		t.Errorf("reset password not stored: %v %v", ok, err)
	}
	p, _, created, err := st.EnsureDefault(ctx, "", "")
	if err != nil || created {
		t.Fatalf("EnsureDefault after create: created=%v err=%v", created, err)
	}
	if r, ok, _ := st.MemberRole(ctx, p.OrgID, a.ID); !ok || r != meta.RoleAdmin {
		t.Errorf("role = %v %v; want admin", r, ok)
	}
	if n, _ := st.CountAccounts(ctx); n != 2 {
		t.Errorf("accounts = %d; want 2", n)
	}
}
