package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/crest-analytics/crest/internal/meta"
)

// Rule says what a request needs before its handler runs. The zero Rule
// is invalid: New rejects a route without one.
type Rule string

// The rules without a role.
const (
	// Public routes need nothing.
	Public Rule = "public"
	// IngestKey routes check the api_key in the body themselves.
	IngestKey Rule = "ingest-key"
	// Basic routes need HTTP Basic credentials: a project's API key as the
	// user and its secret key as the password. The project is resolved.
	Basic Rule = "basic"
	// Session routes need a logged-in account and no project.
	Session Rule = "session"
)

// ProjectRole returns the rule for routes whose {project} path value must
// name a project the caller can access with at least role min.
func ProjectRole(min meta.Role) Rule { return Rule("project:" + string(min)) }

// OrgRole returns the rule for routes whose {org} path value must name an
// organisation in which the caller has at least role min.
func OrgRole(min meta.Role) Rule { return Rule("org:" + string(min)) }

// PageProject returns the rule for web pages under a {project} path: the
// page is served to everyone (the app sends the signed-out to log in),
// and its handler sees the project (ProjectFrom) only when the caller's
// session may access it with at least role min, so the page can do more
// for a member (start a dashboard's queries) and nothing for others.
func PageProject(min meta.Role) Rule { return Rule("page:" + string(min)) }

// role returns the scope ("project" or "org") and minimum role of a
// role-based rule, and whether it is a page rule (which never fails).
func (r Rule) role() (scope string, min meta.Role, ok bool) {
	scope, role, found := strings.Cut(string(r), ":")
	if scope == "page" {
		scope = "project"
	}
	if !found || (scope != "project" && scope != "org") || !meta.Role(role).Valid() {
		return "", "", false
	}
	return scope, meta.Role(role), true
}

// page reports whether r is a PageProject rule.
func (r Rule) page() bool { return strings.HasPrefix(string(r), "page:") }

// check reports whether the rule is valid for a route path.
func (r Rule) check(path string) error {
	switch r {
	case Public, IngestKey, Basic, Session:
		return nil
	case "":
		return fmt.Errorf("no rule")
	}
	scope, _, ok := r.role()
	if !ok {
		return fmt.Errorf("unknown rule %q", r)
	}
	if !strings.Contains(path, "{"+scope+"}") {
		return fmt.Errorf("rule %s needs a {%s} path value", r, scope)
	}
	return nil
}

type ctxKey int

const stateKey ctxKey = 0

// state is what the authorization layer learned about a request.
type state struct {
	account *meta.Account
	session *meta.Session
	token   string
	project *meta.Project
	org     *meta.Org
	role    meta.Role
	err     error // an internal error for the access log
}

func stateFrom(ctx context.Context) *state {
	st, _ := ctx.Value(stateKey).(*state)
	return st
}

// AccountFrom returns the logged-in account of a request that passed a
// Session, ProjectRole or OrgRole rule.
func AccountFrom(ctx context.Context) (meta.Account, bool) {
	if st := stateFrom(ctx); st != nil && st.account != nil {
		return *st.account, true
	}
	return meta.Account{}, false
}

// SessionFrom returns the session of a cookie-authenticated request.
func SessionFrom(ctx context.Context) (meta.Session, bool) {
	if st := stateFrom(ctx); st != nil && st.session != nil {
		return *st.session, true
	}
	return meta.Session{}, false
}

// ProjectFrom returns the project resolved by a ProjectRole or Basic rule.
func ProjectFrom(ctx context.Context) (meta.Project, bool) {
	if st := stateFrom(ctx); st != nil && st.project != nil {
		return *st.project, true
	}
	return meta.Project{}, false
}

// OrgFrom returns the organisation resolved by an OrgRole rule.
func OrgFrom(ctx context.Context) (meta.Org, bool) {
	if st := stateFrom(ctx); st != nil && st.org != nil {
		return *st.org, true
	}
	return meta.Org{}, false
}

// RoleFrom returns the caller's effective role on the resolved project or
// organisation.
func RoleFrom(ctx context.Context) (meta.Role, bool) {
	if st := stateFrom(ctx); st != nil && st.role != "" {
		return st.role, true
	}
	return "", false
}
