package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/crest-analytics/crest/internal/meta"
)

// TestPageProjectRule: a page route is served to every caller, and its
// handler sees the project only for callers who may view it; a revoked
// or unknown session is a stranger, not an error.
func TestPageProjectRule(t *testing.T) {
	w := newWorld(t)
	ps := &Server{d: w.srv.d, auth: w.srv.auth}
	if err := ps.mount([]Route{{Method: "GET", Path: "/projects/{project}/page", Rule: PageProject(meta.RoleViewer),
		Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			p, ok := ProjectFrom(r.Context())
			role, _ := RoleFrom(r.Context())
			if ok {
				fmt.Fprintf(rw, "project %d as %s", p.ID, role)
				return
			}
			fmt.Fprint(rw, "stranger")
		})}}); err != nil {
		t.Fatal(err)
	}
	w.srv = ps
	for _, c := range append(w.callers, caller{name: "forged", token: "not-a-session"}) {
		for _, target := range []string{"own", "other"} {
			rec := w.do(c, "GET", w.fill("/projects/{project}/page", target), "", false)
			want := "stranger"
			if role := w.roles[c.name]["project:"+target]; role.AtLeast(meta.RoleViewer) {
				id := w.projA
				if target == "other" {
					id = w.projB
				}
				want = fmt.Sprintf("project %d as %s", id, role)
			}
			if rec.Code != http.StatusOK || rec.Body.String() != want {
				t.Errorf("%s on %s project: %d %q, want 200 %q", c.name, target, rec.Code, rec.Body, want)
			}
		}
	}
	// A project id that is no number is no project.
	if rec := w.do(w.callers[4], "GET", "/projects/x/page", "", false); rec.Code != 200 || rec.Body.String() != "stranger" {
		t.Errorf("bad id: %d %q", rec.Code, rec.Body)
	}
	if err := PageProject(meta.RoleViewer).check("/projects/page"); err == nil {
		t.Error("a page rule on a path without {project} was accepted")
	}
}
