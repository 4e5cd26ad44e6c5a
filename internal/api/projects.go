package api

import (
	"net/http"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

// listProjects lists every project the caller can see, with its role.
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a, _ := AccountFrom(ctx)
	ms, err := s.d.Meta.Memberships(ctx, a.ID)
	if err != nil {
		return err
	}
	out := []projectJSON{}
	for _, m := range ms {
		ps, err := s.d.Meta.Projects(ctx, m.Org.ID)
		if err != nil {
			return err
		}
		for _, p := range ps {
			role, ok, err := s.effectiveRole(ctx, p, a.ID)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, toProject(p, role))
			}
		}
	}
	writeJSON(w, http.StatusOK, listOf(out))
	return nil
}

// createProject creates a project with fresh keys, returned once.
func (s *Server) createProject(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name     string `json:"name"`
		TimeZone string `json:"time_zone"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	name, err := validName("name", req.Name)
	if err != nil {
		return err
	}
	tz, err := validTimeZone(req.TimeZone)
	if err != nil {
		return err
	}
	ctx := r.Context()
	o, _ := OrgFrom(ctx)
	p, err := s.d.Meta.CreateProject(ctx, o.ID, name, tz)
	if err != nil {
		return err
	}
	keys := map[meta.KeyKind]string{}
	for _, kind := range []meta.KeyKind{meta.KeyAPI, meta.KeySecret} {
		v, err := meta.NewKey()
		if err != nil {
			return err
		}
		if _, err := s.d.Meta.RotateKey(ctx, p.ID, kind, v, s.d.Now()); err != nil {
			return err
		}
		keys[kind] = v
	}
	if err := s.audit(r, o.ID, "project.create", projectTarget(p.ID), map[string]any{"name": name, "time_zone": tz}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"project": toProject(p, meta.RoleAdmin),
		"api_key": keys[meta.KeyAPI], "secret_key": keys[meta.KeySecret]})
	return nil
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	p, _ := ProjectFrom(r.Context())
	role, _ := RoleFrom(r.Context())
	writeJSON(w, http.StatusOK, toProject(p, role))
	return nil
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name     *string `json:"name"`
		TimeZone *string `json:"time_zone"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	p, _ := ProjectFrom(ctx)
	changes := map[string]any{}
	if req.Name != nil {
		name, err := validName("name", *req.Name)
		if err != nil {
			return err
		}
		changes["name"], p.Name = name, name
	}
	if req.TimeZone != nil {
		if *req.TimeZone == "" {
			return BadRequest("time_zone must be an IANA time zone name")
		}
		tz, err := validTimeZone(*req.TimeZone)
		if err != nil {
			return err
		}
		changes["time_zone"], p.TimeZone = tz, tz
	}
	if err := s.d.Meta.UpdateProject(ctx, p); err != nil {
		return err
	}
	if err := s.audit(r, p.OrgID, "project.update", projectTarget(p.ID), changes); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProject(p, meta.RoleAdmin))
	return nil
}

func (s *Server) listProjectRoles(w http.ResponseWriter, r *http.Request) error {
	p, _ := ProjectFrom(r.Context())
	rs, err := s.d.Meta.ProjectRoles(r.Context(), p.ID)
	if err != nil {
		return err
	}
	type roleJSON struct {
		AccountID int64     `json:"account_id"`
		Email     string    `json:"email"`
		Role      meta.Role `json:"role"`
	}
	out := make([]roleJSON, 0, len(rs))
	for _, x := range rs {
		out = append(out, roleJSON{x.AccountID, x.Email, x.Role})
	}
	writeJSON(w, http.StatusOK, listOf(out))
	return nil
}

// setProjectRole overrides an org member's role on one project.
func (s *Server) setProjectRole(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Role meta.Role `json:"role"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !req.Role.Valid() {
		return BadRequest("role must be admin, member or viewer")
	}
	ctx := r.Context()
	p, _ := ProjectFrom(ctx)
	id, err := pathID(r, "account")
	if err != nil {
		return err
	}
	if _, ok, err := s.d.Meta.MemberRole(ctx, p.OrgID, id); err != nil {
		return err
	} else if !ok {
		return errNotFound()
	}
	if err := s.d.Meta.SetProjectRole(ctx, p.ID, id, req.Role); err != nil {
		return err
	}
	if err := s.audit(r, p.OrgID, "project.role_set", accountTarget(id), map[string]any{"project_id": p.ID, "role": req.Role}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteProjectRole(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, _ := ProjectFrom(ctx)
	id, err := pathID(r, "account")
	if err != nil {
		return err
	}
	if err := s.d.Meta.DeleteProjectRole(ctx, p.ID, id); err != nil {
		return err
	}
	if err := s.audit(r, p.OrgID, "project.role_delete", accountTarget(id), map[string]any{"project_id": p.ID}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revealAPIKey returns the project's current API key (public by design:
// it is embedded in the apps that send events).
func (s *Server) revealAPIKey(w http.ResponseWriter, r *http.Request) error {
	p, _ := ProjectFrom(r.Context())
	ks, err := s.d.Meta.Keys(r.Context(), p.ID)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if k.Kind == meta.KeyAPI && k.Expires == nil {
			writeJSON(w, http.StatusOK, map[string]string{"api_key": k.Value})
			return nil
		}
	}
	return Errorf(http.StatusNotFound, "no_api_key", "the project has no current API key")
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	p, _ := ProjectFrom(r.Context())
	ks, err := s.d.Meta.Keys(r.Context(), p.ID)
	if err != nil {
		return err
	}
	now := s.d.Now()
	out := make([]keyJSON, 0, len(ks))
	for _, k := range ks {
		out = append(out, toKey(k, now))
	}
	writeJSON(w, http.StatusOK, listOf(out))
	return nil
}

// rotateKey replaces the API key or the secret key; the old one stays
// valid for grace_seconds (0 ends it now, at most 30 days). The new value
// is returned once.
func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Kind         meta.KeyKind `json:"kind"`
		GraceSeconds int64        `json:"grace_seconds"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !req.Kind.Valid() {
		return BadRequest(`kind must be "api" or "secret"`)
	}
	grace := time.Duration(req.GraceSeconds) * time.Second
	if req.GraceSeconds < 0 || grace > maxGrace {
		return BadRequest("grace_seconds must be 0 to %d", int64(maxGrace/time.Second))
	}
	ctx := r.Context()
	p, _ := ProjectFrom(ctx)
	v, err := meta.NewKey()
	if err != nil {
		return err
	}
	until := s.d.Now().Add(grace)
	k, err := s.d.Meta.RotateKey(ctx, p.ID, req.Kind, v, until)
	if err != nil {
		return err
	}
	if err := s.audit(r, p.OrgID, "key.rotate", projectTarget(p.ID),
		map[string]any{"kind": req.Kind, "new_key_hint": k.Hint, "old_valid_until": until}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"key": toKey(k, s.d.Now()), "value": v, "old_valid_until": until})
	return nil
}
