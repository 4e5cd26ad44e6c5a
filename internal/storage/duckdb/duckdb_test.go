package duckdb

import (
	"path/filepath"
	"testing"

	"github.com/crest-analytics/crest/internal/storage/storagetest"
)

// backend adapts DB to storagetest.Backend.
type backend struct {
	*DB
	path string
}

func (b *backend) SetApplyHook(hook func(step string) error) { b.applyHook = hook }

func (b *backend) Reopen(t *testing.T) storagetest.Backend { return openAt(t, b.path) }

func openAt(t *testing.T, path string) *backend {
	t.Helper()
	db, err := Open(t.Context(), path, Options{MemoryLimit: "1GB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &backend{DB: db, path: path}
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Backend {
		return openAt(t, filepath.Join(t.TempDir(), "crest.duckdb"))
	})
}
