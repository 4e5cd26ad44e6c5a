package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/crest-analytics/crest/internal/meta"
)

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request) error {
	a, _ := AccountFrom(r.Context())
	ms, err := s.d.Meta.Memberships(r.Context(), a.ID)
	if err != nil {
		return err
	}
	out := make([]orgJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, toOrg(m.Org, m.Role))
	}
	writeJSON(w, http.StatusOK, listOf(out))
	return nil
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	name, err := validName("name", req.Name)
	if err != nil {
		return err
	}
	a, _ := AccountFrom(r.Context())
	o, err := s.d.Meta.CreateOrg(r.Context(), name, a.ID)
	if err != nil {
		return err
	}
	if err := s.audit(r, o.ID, "org.create", orgTarget(o.ID), map[string]any{"name": name}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toOrg(o, meta.RoleAdmin))
	return nil
}

func orgTarget(id int64) string     { return "org:" + strconv.FormatInt(id, 10) }
func accountTarget(id int64) string { return "account:" + strconv.FormatInt(id, 10) }
func projectTarget(id int64) string { return "project:" + strconv.FormatInt(id, 10) }

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request) error {
	o, _ := OrgFrom(r.Context())
	role, _ := RoleFrom(r.Context())
	writeJSON(w, http.StatusOK, toOrg(o, role))
	return nil
}

func (s *Server) renameOrg(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	name, err := validName("name", req.Name)
	if err != nil {
		return err
	}
	o, _ := OrgFrom(r.Context())
	if err := s.d.Meta.RenameOrg(r.Context(), o.ID, name); err != nil {
		return err
	}
	if err := s.audit(r, o.ID, "org.rename", orgTarget(o.ID), map[string]any{"from": o.Name, "to": name}); err != nil {
		return err
	}
	o.Name = name
	writeJSON(w, http.StatusOK, toOrg(o, meta.RoleAdmin))
	return nil
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	o, _ := OrgFrom(r.Context())
	ms, err := s.d.Meta.Members(r.Context(), o.ID)
	if err != nil {
		return err
	}
	out := make([]memberJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberJSON{AccountID: m.AccountID, Email: m.Email, Role: m.Role, Disabled: m.Disabled})
	}
	writeJSON(w, http.StatusOK, listOf(out))
	return nil
}

// createMember creates a new account with a password and adds it to the
// organisation. Existing accounts join by invitation instead.
func (s *Server) createMember(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		credentials
		Role meta.Role `json:"role"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !req.Role.Valid() {
		return BadRequest("role must be admin, member or viewer")
	}
	email, err := validEmail(req.Email)
	if err != nil {
		return err
	}
	hash, err := s.auth.HashPassword(r.Context(), req.Password)
	if err != nil {
		return err
	}
	ctx := r.Context()
	o, _ := OrgFrom(ctx)
	a, err := s.d.Meta.CreateAccount(ctx, email, hash)
	if err != nil {
		return err
	}
	if err := s.d.Meta.SetMember(ctx, o.ID, a.ID, req.Role); err != nil {
		return err
	}
	if err := s.audit(r, o.ID, "member.create", accountTarget(a.ID), map[string]any{"email": a.Email, "role": req.Role}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, memberJSON{AccountID: a.ID, Email: a.Email, Role: req.Role})
	return nil
}

// memberArg resolves the {account} path value to a member of the org.
func (s *Server) memberArg(r *http.Request) (meta.Org, int64, meta.Role, error) {
	o, _ := OrgFrom(r.Context())
	id, err := pathID(r, "account")
	if err != nil {
		return o, 0, "", err
	}
	role, ok, err := s.d.Meta.MemberRole(r.Context(), o.ID, id)
	if err != nil {
		return o, 0, "", err
	}
	if !ok {
		return o, 0, "", errNotFound()
	}
	return o, id, role, nil
}

// keepAnAdmin refuses to demote or remove the org's last administrator.
func (s *Server) keepAnAdmin(ctx context.Context, orgID, accountID int64, cur meta.Role) error {
	if cur != meta.RoleAdmin {
		return nil
	}
	ms, err := s.d.Meta.Members(ctx, orgID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Role == meta.RoleAdmin && m.AccountID != accountID && !m.Disabled {
			return nil
		}
	}
	return Errorf(http.StatusConflict, "last_admin", "an organisation needs at least one active administrator")
}

func (s *Server) setMemberRole(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Role meta.Role `json:"role"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !req.Role.Valid() {
		return BadRequest("role must be admin, member or viewer")
	}
	o, id, cur, err := s.memberArg(r)
	if err != nil {
		return err
	}
	if req.Role != meta.RoleAdmin {
		if err := s.keepAnAdmin(r.Context(), o.ID, id, cur); err != nil {
			return err
		}
	}
	if err := s.d.Meta.SetMember(r.Context(), o.ID, id, req.Role); err != nil {
		return err
	}
	if err := s.audit(r, o.ID, "member.role", accountTarget(id), map[string]any{"from": cur, "to": req.Role}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	o, id, cur, err := s.memberArg(r)
	if err != nil {
		return err
	}
	if err := s.keepAnAdmin(r.Context(), o.ID, id, cur); err != nil {
		return err
	}
	if err := s.d.Meta.RemoveMember(r.Context(), o.ID, id); err != nil {
		return err
	}
	if err := s.audit(r, o.ID, "member.remove", accountTarget(id), map[string]any{"role": cur}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) revokeMemberSessions(w http.ResponseWriter, r *http.Request) error {
	o, id, _, err := s.memberArg(r)
	if err != nil {
		return err
	}
	if err := s.d.Meta.RevokeSessions(r.Context(), id, 0); err != nil {
		return err
	}
	if err := s.audit(r, o.ID, "member.revoke_sessions", accountTarget(id), nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) disableMember(w http.ResponseWriter, r *http.Request) error {
	return s.setDisabled(w, r, true)
}

func (s *Server) enableMember(w http.ResponseWriter, r *http.Request) error {
	return s.setDisabled(w, r, false)
}

// setDisabled disables (and logs out) or re-enables a member's account.
func (s *Server) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	o, id, cur, err := s.memberArg(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if disabled {
		if err := s.keepAnAdmin(ctx, o.ID, id, cur); err != nil {
			return err
		}
	}
	if err := s.d.Meta.SetDisabled(ctx, id, disabled); err != nil {
		return err
	}
	action := "member.enable"
	if disabled {
		action = "member.disable"
		if err := s.d.Meta.RevokeSessions(ctx, id, 0); err != nil {
			return err
		}
	}
	if err := s.audit(r, o.ID, action, accountTarget(id), nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	o, _ := OrgFrom(r.Context())
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return BadRequest("limit must be 1 to 1000")
		}
		limit = n
	}
	es, err := s.d.Meta.Audit(r.Context(), o.ID, limit)
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	out := make([]auditJSON, 0, len(es))
	for _, e := range es {
		out = append(out, auditJSON{ID: e.ID, AccountID: e.AccountID, Email: e.Email, Action: e.Action, Target: e.Target, At: e.At, RemoteAddr: e.RemoteAddr, Details: e.Details})
	}
	writeJSON(w, http.StatusOK, listOf(out))
	return nil
}
