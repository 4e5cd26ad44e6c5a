package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
)

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request) error {
	o, _ := OrgFrom(r.Context())
	is, err := s.d.Meta.Invitations(r.Context(), o.ID)
	if err != nil {
		return err
	}
	out := make([]invitationJSON, 0, len(is))
	for _, i := range is {
		out = append(out, toInvitation(i))
	}
	writeJSON(w, http.StatusOK, listOf(out))
	return nil
}

// createInvitation returns the invitation and its token once; the link is
// /invite/<token> on this server.
func (s *Server) createInvitation(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Role         meta.Role `json:"role"`
		Email        string    `json:"email"`
		ExpiresHours int       `json:"expires_hours"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !req.Role.Valid() {
		return BadRequest("role must be admin, member or viewer")
	}
	if req.Email != "" {
		e, err := validEmail(req.Email)
		if err != nil {
			return err
		}
		req.Email = e
	}
	ttl := s.d.InvitationTTL
	if req.ExpiresHours != 0 {
		if req.ExpiresHours < 1 || req.ExpiresHours > 30*24 {
			return BadRequest("expires_hours must be 1 to 720")
		}
		ttl = time.Duration(req.ExpiresHours) * time.Hour
	}
	token, err := auth.NewToken()
	if err != nil {
		return err
	}
	ctx := r.Context()
	o, _ := OrgFrom(ctx)
	a, _ := AccountFrom(ctx)
	now := s.d.Now()
	inv, err := s.d.Meta.CreateInvitation(ctx, meta.Invitation{OrgID: o.ID, Role: req.Role, Email: req.Email,
		TokenHash: meta.HashSecret(token), CreatedBy: a.ID, Created: now, Expires: now.Add(ttl)})
	if err != nil {
		return err
	}
	if err := s.audit(r, o.ID, "invitation.create", "invitation:"+strconv.FormatInt(inv.ID, 10),
		map[string]any{"role": inv.Role, "email": inv.Email, "expires": inv.Expires}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"invitation": toInvitation(inv), "token": token, "path": "/invite/" + token})
	return nil
}

func (s *Server) deleteInvitation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "invitation")
	if err != nil {
		return err
	}
	o, _ := OrgFrom(r.Context())
	if err := s.d.Meta.DeleteInvitation(r.Context(), o.ID, id); err != nil {
		return err
	}
	if err := s.audit(r, o.ID, "invitation.revoke", "invitation:"+strconv.FormatInt(id, 10), nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// openInvitation returns the usable invitation named by the {token} path
// value; used, expired and unknown tokens all read as not found.
func (s *Server) openInvitation(r *http.Request) (meta.Invitation, error) {
	inv, err := s.d.Meta.InvitationByTokenHash(r.Context(), meta.HashSecret(r.PathValue("token")))
	if errors.Is(err, meta.ErrNotFound) || (err == nil && (inv.Used != nil || !s.d.Now().Before(inv.Expires))) {
		return meta.Invitation{}, Errorf(http.StatusNotFound, "invitation_invalid", "this invitation is unknown, used or expired")
	}
	return inv, err
}

func (s *Server) showInvitation(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.openInvitation(r)
	if err != nil {
		return err
	}
	o, err := s.d.Meta.Org(r.Context(), inv.OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"org_name": o.Name, "role": inv.Role, "email": inv.Email, "expires": inv.Expires})
	return nil
}

// accept joins account a to the invitation's org and audits it.
func (s *Server) accept(r *http.Request, inv meta.Invitation, a meta.Account) error {
	if inv.Email != "" && inv.Email != a.Email {
		return Errorf(http.StatusForbidden, "invitation_email", "this invitation is for another email address")
	}
	if err := s.d.Meta.AcceptInvitation(r.Context(), inv.ID, a.ID, s.d.Now()); err != nil {
		if errors.Is(err, meta.ErrConflict) {
			return Errorf(http.StatusNotFound, "invitation_invalid", "this invitation is unknown, used or expired")
		}
		return err
	}
	return s.audit(r, inv.OrgID, "invitation.accept", accountTarget(a.ID),
		map[string]any{"invitation": inv.ID, "role": inv.Role})
}

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.openInvitation(r)
	if err != nil {
		return err
	}
	a, _ := AccountFrom(r.Context())
	if err := s.accept(r, inv, a); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"org_id": inv.OrgID})
	return nil
}

// signupInvitation creates an account from an invitation and logs it in.
func (s *Server) signupInvitation(w http.ResponseWriter, r *http.Request) error {
	var req credentials
	if err := decode(w, r, &req); err != nil {
		return err
	}
	inv, err := s.openInvitation(r)
	if err != nil {
		return err
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
	if inv.Email != "" && inv.Email != email {
		return Errorf(http.StatusForbidden, "invitation_email", "this invitation is for another email address")
	}
	a, err := s.d.Meta.CreateAccount(ctx, email, hash)
	if errors.Is(err, meta.ErrConflict) {
		return Errorf(http.StatusConflict, "account_exists", "an account with this email exists; log in and accept the invitation")
	} else if err != nil {
		return err
	}
	stateFrom(ctx).account = &a
	if err := s.accept(r, inv, a); err != nil {
		return err
	}
	l, err := s.auth.OpenSession(ctx, a, s.d.ClientAddr(r))
	if err != nil {
		return err
	}
	s.auth.SetCookies(w, r, l)
	writeJSON(w, http.StatusCreated, map[string]any{"account": toAccount(a), "org_id": inv.OrgID, "csrf_token": l.CSRF})
	return nil
}
