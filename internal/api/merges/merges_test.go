package merges

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/meta/sqlite"
	"github.com/crest-analytics/crest/internal/storage"
)

var errNoMerge = errors.New("no merge")

// fakeMerger knows one merge: 7 into 3 in its project.
type fakeMerger struct {
	project int64
	undone  bool
}

func (f *fakeMerger) Merges(projectID, id int64) []storage.Merge {
	if projectID != f.project || (id != 3 && id != 7) {
		return nil
	}
	return []storage.Merge{{ProjectID: projectID, FromID: 7, IntoID: 3, Time: 1000, DeviceID: "device-1", Undone: f.undone}}
}

func (f *fakeMerger) UndoMerge(_ context.Context, projectID, from int64) (storage.Merge, error) {
	if projectID != f.project || from != 7 {
		return storage.Merge{}, errNoMerge
	}
	f.undone = true
	return f.Merges(projectID, from)[0], nil
}

func TestMergeRoutes(t *testing.T) {
	ctx := t.Context()
	m, err := sqlite.Open(ctx, t.TempDir()+"/meta.db")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, _, _, err := m.EnsureDefault(ctx, "api-key-0123456789", "secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	fm := &fakeMerger{project: p.ID}
	srv, err := api.New(api.Deps{Meta: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ExtraRoutes: Routes(Deps{Merger: fm, Audit: m, IsNoMerge: func(err error) bool { return errors.Is(err, errNoMerge) }})})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	do := func(method, path, user, pass string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const k, s = "api-key-0123456789", "secret-key-0123456789"

	if code, _ := do("GET", "/api/v1/merges/3", "", ""); code != 401 {
		t.Errorf("list without credentials: %d, want 401", code)
	}
	if code, _ := do("POST", "/api/v1/merges/7/undo", k, "wrong-secret"); code != 401 || fm.undone {
		t.Errorf("undo with a wrong secret: %d (undone %v), want 401 and nothing undone", code, fm.undone)
	}
	code, body := do("GET", "/api/v1/merges/3", k, s)
	var list struct {
		Merges []mergeJSON `json:"merges"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Merges) != 1 || list.Merges[0].FromID != 7 {
		t.Fatalf("list: %d %s", code, body)
	}
	if code, body := do("GET", "/api/v1/merges/abc", k, s); code != 400 || !strings.Contains(body, "amplitude id") {
		t.Errorf("list with a bad id: %d %s", code, body)
	}
	if code, body := do("POST", "/api/v1/merges/3/undo", k, s); code != 404 || !strings.Contains(body, "never merged") {
		t.Errorf("undo of a user never merged: %d %s", code, body)
	}
	if code, body := do("POST", "/api/v1/merges/7/undo", k, s); code != 200 || !strings.Contains(body, `"undone":true`) {
		t.Fatalf("undo: %d %s", code, body)
	}
	entries, err := m.Audit(ctx, p.OrgID, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Action == "identity.undo_merge" && strings.Contains(e.Target, "amplitude_id 7") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit entry for the undo in %+v", entries)
	}
}
