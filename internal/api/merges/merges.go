// Package merges serves the operator API over identity merges: list the
// merges of a user and undo one (the anonymous id becomes its own user
// again at query time). Every undo is written to the audit log.
package merges

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/storage"
)

// Merger is what the handlers need of the pipeline.
type Merger interface {
	Merges(projectID, amplitudeID int64) []storage.Merge
	UndoMerge(ctx context.Context, projectID, from int64) (storage.Merge, error)
}

// Auditor records administrative actions.
type Auditor interface {
	AddAudit(ctx context.Context, e meta.AuditEntry) error
}

// Deps are the handlers' dependencies.
type Deps struct {
	Merger    Merger
	Audit     Auditor
	Now       func() time.Time
	IsNoMerge func(error) bool // reports whether an UndoMerge error means "no such merge"
}

// Routes returns the merge routes: project-scoped ones for the web app
// (viewers list, admins undo) and ones authenticated by the project's API
// key and secret key for `crest merges`.
func Routes(d Deps) []api.Route {
	if d.Now == nil {
		d.Now = time.Now
	}
	h := handlers{d}
	const p = "/api/v1/projects/{project}"
	return []api.Route{
		{Method: "GET", Path: p + "/users/{amplitude_id}/merges", Rule: api.ProjectRole(meta.RoleViewer), Handler: http.HandlerFunc(h.list)},
		{Method: "POST", Path: p + "/merges/{from}/undo", Rule: api.ProjectRole(meta.RoleAdmin), Handler: http.HandlerFunc(h.undo)},
		{Method: "GET", Path: "/api/v1/merges/{amplitude_id}", Rule: api.Basic, Handler: http.HandlerFunc(h.list)},
		{Method: "POST", Path: "/api/v1/merges/{from}/undo", Rule: api.Basic, Handler: http.HandlerFunc(h.undo)},
	}
}

type handlers struct{ d Deps }

// mergeJSON is a merge as the API shows it.
type mergeJSON struct {
	FromID   int64  `json:"from_amplitude_id"`
	IntoID   int64  `json:"into_amplitude_id"`
	Time     int64  `json:"time"`
	EventSeq int64  `json:"event_seq"`
	DeviceID string `json:"device_id"`
	Undone   bool   `json:"undone"`
}

func toJSON(m storage.Merge) mergeJSON {
	return mergeJSON{FromID: m.FromID, IntoID: m.IntoID, Time: m.Time, EventSeq: m.EventSeq, DeviceID: m.DeviceID, Undone: m.Undone}
}

func idParam(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, api.BadRequest("%s: want a positive amplitude id, got %q", name, r.PathValue(name))
	}
	return id, nil
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	p, _ := api.ProjectFrom(r.Context())
	id, err := idParam(r, "amplitude_id")
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	out := []mergeJSON{}
	for _, m := range h.d.Merger.Merges(p.ID, id) {
		out = append(out, toJSON(m))
	}
	writeJSON(w, map[string]any{"amplitude_id": id, "merges": out})
}

func (h handlers) undo(w http.ResponseWriter, r *http.Request) {
	p, _ := api.ProjectFrom(r.Context())
	from, err := idParam(r, "from")
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	m, err := h.d.Merger.UndoMerge(r.Context(), p.ID, from)
	if err != nil {
		if h.d.IsNoMerge != nil && h.d.IsNoMerge(err) {
			err = api.Errorf(http.StatusNotFound, "not_found", "amplitude id %d was never merged in this project", from)
		}
		api.WriteError(w, r, err)
		return
	}
	entry := meta.AuditEntry{
		OrgID: p.OrgID, Action: "identity.undo_merge", At: h.d.Now(),
		Target:     fmt.Sprintf("project %d amplitude_id %d", p.ID, from),
		RemoteAddr: remoteHost(r),
	}
	if a, ok := api.AccountFrom(r.Context()); ok {
		entry.AccountID, entry.Email = a.ID, a.Email
	} else {
		entry.Email = "(project secret key)"
	}
	entry.Details, _ = json.Marshal(toJSON(m))
	if err := h.d.Audit.AddAudit(r.Context(), entry); err != nil {
		api.WriteError(w, r, fmt.Errorf("audit undo merge: %w", err))
		return
	}
	writeJSON(w, map[string]any{"merge": toJSON(m)})
}

func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
