package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
)

// testDSN returns the server named by CREST_TEST_POSTGRES with a fresh
// schema, dropped when t ends, as the search path. Under CI (CI=true) a
// missing server fails the test; elsewhere the test is skipped.
func testDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("CREST_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CREST_TEST_POSTGRES is not set; scripts/ci-services.sh starts the server")
		}
		t.Skip("CREST_TEST_POSTGRES is not set; run scripts/ci-services.sh and source /tmp/crest-ci-services.env")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "crest_test_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer db.Close()
		db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") //nolint:errcheck // best effort
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestRebind(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
	f("SELECT 1", "SELECT 1")
	f("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2")
	f("SELECT '?' FROM t WHERE b = ?", "SELECT '?' FROM t WHERE b = $1")
	f(`SELECT "a?" FROM t WHERE b = ?`, `SELECT "a?" FROM t WHERE b = $1`)
}
