package api

import (
	"net/http"

	"github.com/crest-analytics/crest/internal/meta"
)

// handlerFunc is a handler that returns its error to WriteError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// ownRoutes is the one table of the /api/v1 routes and their rules.
// docs/api.md documents each of them.
func (s *Server) ownRoutes() []Route {
	viewer, admin := meta.RoleViewer, meta.RoleAdmin
	rt := func(method, path string, rule Rule, f handlerFunc) Route {
		return Route{Method: method, Path: path, Rule: rule, Handler: f}
	}
	return []Route{
		// First run and login.
		rt("GET", "/api/v1/setup", Public, s.setupStatus),
		rt("POST", "/api/v1/setup", Public, s.setup),
		rt("POST", "/api/v1/login", Public, s.login),
		rt("POST", "/api/v1/logout", Session, s.logout),

		// The caller's own account.
		rt("GET", "/api/v1/me", Session, s.me),
		rt("POST", "/api/v1/me/password", Session, s.changePassword),
		rt("GET", "/api/v1/me/sessions", Session, s.listSessions),
		rt("DELETE", "/api/v1/me/sessions/{session}", Session, s.revokeSession),

		// Organisations and members.
		rt("GET", "/api/v1/orgs", Session, s.listOrgs),
		rt("POST", "/api/v1/orgs", Session, s.createOrg),
		rt("GET", "/api/v1/orgs/{org}", OrgRole(viewer), s.getOrg),
		rt("PATCH", "/api/v1/orgs/{org}", OrgRole(admin), s.renameOrg),
		rt("GET", "/api/v1/orgs/{org}/members", OrgRole(viewer), s.listMembers),
		rt("POST", "/api/v1/orgs/{org}/members", OrgRole(admin), s.createMember),
		rt("PATCH", "/api/v1/orgs/{org}/members/{account}", OrgRole(admin), s.setMemberRole),
		rt("DELETE", "/api/v1/orgs/{org}/members/{account}", OrgRole(admin), s.removeMember),
		rt("POST", "/api/v1/orgs/{org}/members/{account}/revoke-sessions", OrgRole(admin), s.revokeMemberSessions),
		rt("POST", "/api/v1/orgs/{org}/members/{account}/disable", OrgRole(admin), s.disableMember),
		rt("POST", "/api/v1/orgs/{org}/members/{account}/enable", OrgRole(admin), s.enableMember),
		rt("GET", "/api/v1/orgs/{org}/audit", OrgRole(admin), s.listAudit),

		// Invitations.
		rt("GET", "/api/v1/orgs/{org}/invitations", OrgRole(admin), s.listInvitations),
		rt("POST", "/api/v1/orgs/{org}/invitations", OrgRole(admin), s.createInvitation),
		rt("DELETE", "/api/v1/orgs/{org}/invitations/{invitation}", OrgRole(admin), s.deleteInvitation),
		rt("GET", "/api/v1/invitations/{token}", Public, s.showInvitation),
		rt("POST", "/api/v1/invitations/{token}/accept", Session, s.acceptInvitation),
		rt("POST", "/api/v1/invitations/{token}/signup", Public, s.signupInvitation),

		// Projects, role overrides and keys.
		rt("GET", "/api/v1/projects", Session, s.listProjects),
		rt("POST", "/api/v1/orgs/{org}/projects", OrgRole(admin), s.createProject),
		rt("GET", "/api/v1/projects/{project}", ProjectRole(viewer), s.getProject),
		rt("PATCH", "/api/v1/projects/{project}", ProjectRole(admin), s.updateProject),
		rt("GET", "/api/v1/projects/{project}/roles", ProjectRole(admin), s.listProjectRoles),
		rt("PUT", "/api/v1/projects/{project}/roles/{account}", ProjectRole(admin), s.setProjectRole),
		rt("DELETE", "/api/v1/projects/{project}/roles/{account}", ProjectRole(admin), s.deleteProjectRole),
		rt("GET", "/api/v1/projects/{project}/api-key", ProjectRole(viewer), s.revealAPIKey),
		rt("GET", "/api/v1/projects/{project}/keys", ProjectRole(admin), s.listKeys),
		rt("POST", "/api/v1/projects/{project}/keys/rotate", ProjectRole(admin), s.rotateKey),
	}
}
