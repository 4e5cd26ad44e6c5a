package api

import (
	"encoding/json"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

// Wire shapes of the /api/v1 responses. Times are RFC 3339 UTC.

type accountJSON struct {
	ID       int64     `json:"id"`
	Email    string    `json:"email"`
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled"`
}

func toAccount(a meta.Account) accountJSON {
	return accountJSON{ID: a.ID, Email: a.Email, Created: a.Created, Disabled: a.Disabled}
}

type orgJSON struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Role    meta.Role `json:"role,omitempty"`
}

func toOrg(o meta.Org, role meta.Role) orgJSON {
	return orgJSON{ID: o.ID, Name: o.Name, Created: o.Created, Role: role}
}

type projectJSON struct {
	ID       int64     `json:"id"`
	OrgID    int64     `json:"org_id"`
	Name     string    `json:"name"`
	TimeZone string    `json:"time_zone"`
	Created  time.Time `json:"created"`
	Role     meta.Role `json:"role,omitempty"`
}

func toProject(p meta.Project, role meta.Role) projectJSON {
	return projectJSON{ID: p.ID, OrgID: p.OrgID, Name: p.Name, TimeZone: p.TimeZone, Created: p.Created, Role: role}
}

type memberJSON struct {
	AccountID int64     `json:"account_id"`
	Email     string    `json:"email"`
	Role      meta.Role `json:"role"`
	Disabled  bool      `json:"disabled"`
}

type sessionJSON struct {
	ID          int64     `json:"id"`
	Created     time.Time `json:"created"`
	LastSeen    time.Time `json:"last_seen"`
	Expires     time.Time `json:"expires"`
	LastAddress string    `json:"last_address"`
	Current     bool      `json:"current"`
}

type keyJSON struct {
	ID      int64        `json:"id"`
	Kind    meta.KeyKind `json:"kind"`
	Value   string       `json:"value,omitempty"` // API keys only
	Hint    string       `json:"hint"`
	Created time.Time    `json:"created"`
	Expires *time.Time   `json:"expires"`
	Active  bool         `json:"active"`
}

func toKey(k meta.Key, now time.Time) keyJSON {
	return keyJSON{ID: k.ID, Kind: k.Kind, Value: k.Value, Hint: k.Hint, Created: k.Created, Expires: k.Expires, Active: k.ActiveAt(now)}
}

type invitationJSON struct {
	ID      int64      `json:"id"`
	OrgID   int64      `json:"org_id"`
	Role    meta.Role  `json:"role"`
	Email   string     `json:"email,omitempty"`
	Created time.Time  `json:"created"`
	Expires time.Time  `json:"expires"`
	Used    *time.Time `json:"used"`
}

func toInvitation(i meta.Invitation) invitationJSON {
	return invitationJSON{ID: i.ID, OrgID: i.OrgID, Role: i.Role, Email: i.Email, Created: i.Created, Expires: i.Expires, Used: i.Used}
}

type auditJSON struct {
	ID         int64           `json:"id"`
	AccountID  int64           `json:"account_id"`
	Email      string          `json:"email"`
	Action     string          `json:"action"`
	Target     string          `json:"target"`
	At         time.Time       `json:"at"`
	RemoteAddr string          `json:"remote_addr"`
	Details    json.RawMessage `json:"details"`
}

// list wraps a slice so empty lists encode as [] and the shape can grow.
type list[T any] struct {
	Items []T `json:"items"`
}

func listOf[T any](items []T) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items}
}
