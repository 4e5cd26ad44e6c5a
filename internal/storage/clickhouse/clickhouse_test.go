package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/crest-analytics/crest/internal/storage"
	"github.com/crest-analytics/crest/internal/storage/storagetest"
)

// testOptions returns the server named by env (a clickhouse:// URL) with
// a fresh database dropped when t ends. Under CI (CI=true) a missing
// server fails the test; elsewhere the test is skipped with a message.
func testOptions(t *testing.T, env string) Options {
	t.Helper()
	return freshOptions(t, env)
}

func benchOptions(b *testing.B) Options {
	b.Helper()
	return freshOptions(b, "CREST_TEST_CLICKHOUSE")
}

func freshOptions(t testing.TB, env string) Options {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; scripts/ci-services.sh starts the servers", env)
		}
		t.Skipf("%s is not set; run scripts/ci-services.sh and source /tmp/crest-ci-services.env", env)
	}
	o, err := ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	o.Database = "crest_test_" + hex.EncodeToString(b[:])
	o.defaults()
	t.Cleanup(func() { dropDatabase(o) })
	return o
}

func dropDatabase(o Options) {
	addrs := []string{o.Addr}
	if o.Cluster != "" {
		addrs = o.Shards
	}
	for _, a := range addrs {
		c := connect(a, o.User, o.Password, "default")
		c.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+ident(o.Database)) //nolint:errcheck // best effort
		c.Close()
	}
}

// backend adapts DB to storagetest.Backend.
type backend struct {
	*DB
}

func (b *backend) SetApplyHook(hook func(step string) error) { b.applyHook = hook }

func (b *backend) Reopen(t *testing.T) storagetest.Backend { return openWith(t, b.opts) }

func openWith(t *testing.T, o Options) *backend {
	t.Helper()
	db, err := Open(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	return &backend{DB: db}
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Backend {
		return openWith(t, testOptions(t, "CREST_TEST_CLICKHOUSE"))
	})
}

func TestConformanceSharded(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Backend {
		return openWith(t, testOptions(t, "CREST_TEST_CLICKHOUSE_SHARDED"))
	})
}

func TestCounterFloor(t *testing.T) {
	o := testOptions(t, "CREST_TEST_CLICKHOUSE")
	o.Node = "b"
	o.CounterFloor = map[string]int64{"next_amplitude_id": 1 << 40}
	db := openWith(t, o)
	defer db.Close()
	c, err := db.Counters(t.Context())
	if err != nil || c["next_amplitude_id"] != 1<<40 {
		t.Fatalf("Counters = %v, %v; want the floor", c, err)
	}
	if err := db.Apply(t.Context(), &storage.Unit{Position: 1, Counters: map[string]int64{"next_amplitude_id": 1<<40 + 5}}); err != nil {
		t.Fatal(err)
	}
	if c, err := db.Counters(t.Context()); err != nil || c["next_amplitude_id"] != 1<<40+5 {
		t.Fatalf("Counters = %v, %v; want the stored value above the floor", c, err)
	}
}
