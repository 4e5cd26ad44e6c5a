package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
)

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func validEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at == len(e)-1 || len(e) > 254 || strings.ContainsAny(e, " \t\r\n") {
		return "", BadRequest("invalid email address")
	}
	return e, nil
}

func (s *Server) setupStatus(w http.ResponseWriter, r *http.Request) error {
	n, err := s.d.Meta.CountAccounts(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"needed": n == 0})
	return nil
}

// setup creates the first administrator while no account exists.
func (s *Server) setup(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		credentials
		OrgName     string `json:"org_name"`
		ProjectName string `json:"project_name"`
		TimeZone    string `json:"time_zone"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	if n, err := s.d.Meta.CountAccounts(ctx); err != nil {
		return err
	} else if n > 0 {
		return Errorf(http.StatusConflict, "setup_done", "setup is already done; log in instead")
	}
	email, err := validEmail(req.Email)
	if err != nil {
		return err
	}
	tz, err := validTimeZone(req.TimeZone)
	if err != nil {
		return err
	}
	for _, n := range []struct{ what, v string }{{"org_name", req.OrgName}, {"project_name", req.ProjectName}} {
		if n.v != "" {
			if _, err := validName(n.what, n.v); err != nil {
				return err
			}
		}
	}
	hash, err := s.auth.HashPassword(ctx, req.Password)
	if err != nil {
		return err
	}
	a, p, err := s.d.Meta.SetupFirstAdmin(ctx, meta.Setup{Email: email, PasswordHash: hash,
		OrgName: strings.TrimSpace(req.OrgName), ProjectName: strings.TrimSpace(req.ProjectName), TimeZone: tz})
	if errors.Is(err, meta.ErrConflict) {
		return Errorf(http.StatusConflict, "setup_done", "setup is already done; log in instead")
	} else if err != nil {
		return err
	}
	l, err := s.auth.OpenSession(ctx, a, s.d.ClientAddr(r))
	if err != nil {
		return err
	}
	st := stateFrom(ctx)
	st.account = &a
	if err := s.audit(r, p.OrgID, "setup", fmt.Sprintf("account:%d", a.ID), map[string]any{"project_id": p.ID}); err != nil {
		return err
	}
	s.auth.SetCookies(w, r, l)
	writeJSON(w, http.StatusCreated, map[string]any{"account": toAccount(a), "project": toProject(p, meta.RoleAdmin), "csrf_token": l.CSRF})
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req credentials
	if err := decode(w, r, &req); err != nil {
		return err
	}
	l, err := s.auth.Login(r.Context(), req.Email, req.Password, s.d.ClientAddr(r))
	if err != nil {
		return err
	}
	s.auth.SetCookies(w, r, l)
	writeJSON(w, http.StatusOK, map[string]any{"account": toAccount(l.Account), "csrf_token": l.CSRF})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	sess, _ := SessionFrom(r.Context())
	if err := s.auth.Logout(r.Context(), sess); err != nil {
		return err
	}
	s.auth.ClearCookies(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a, _ := AccountFrom(ctx)
	ms, err := s.d.Meta.Memberships(ctx, a.ID)
	if err != nil {
		return err
	}
	orgs := make([]orgJSON, 0, len(ms))
	for _, m := range ms {
		orgs = append(orgs, toOrg(m.Org, m.Role))
	}
	sess, _ := SessionFrom(ctx)
	writeJSON(w, http.StatusOK, map[string]any{
		"account": toAccount(a), "orgs": orgs, "session_id": sess.ID,
		"csrf_token": auth.CSRFToken(stateFrom(ctx).token),
	})
	return nil
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	a, _ := AccountFrom(ctx)
	sess, _ := SessionFrom(ctx)
	if err := s.auth.ChangePassword(ctx, a, sess, req.Current, req.New); err != nil {
		return err
	}
	// Record it in every organisation of the account, where its admins look.
	ms, err := s.d.Meta.Memberships(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := s.audit(r, m.Org.ID, "account.password_change", fmt.Sprintf("account:%d", a.ID), nil); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a, _ := AccountFrom(ctx)
	cur, _ := SessionFrom(ctx)
	ss, err := s.d.Meta.Sessions(ctx, a.ID)
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(ss))
	for _, x := range ss {
		out = append(out, sessionJSON{ID: x.ID, Created: x.Created, LastSeen: x.LastSeen, Expires: x.Expires, LastAddress: x.LastAddress, Current: x.ID == cur.ID})
	}
	writeJSON(w, http.StatusOK, listOf(out))
	return nil
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "session")
	if err != nil {
		return err
	}
	a, _ := AccountFrom(r.Context())
	if err := s.d.Meta.RevokeSession(r.Context(), a.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
