// Package meta defines Crest's metadata model (accounts, sessions,
// organisations, members, projects, role overrides, project keys,
// invitations and the audit log) and the Store contract its backends
// implement. The embedded backend lives in meta/sqlite; a PostgreSQL
// backend can satisfy the same interface.
package meta

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors returned by every Store implementation.
var (
	// ErrNotFound reports that the requested row does not exist.
	ErrNotFound = errors.New("meta: not found")
	// ErrConflict reports a uniqueness violation or a state that forbids the
	// change (for example a second first-run setup).
	ErrConflict = errors.New("meta: conflict")
)

// Role is a member's role in an organisation or a project.
type Role string

// The roles, from least to most privileged.
const (
	// RoleViewer may read everything in the projects it can access.
	RoleViewer Role = "viewer"
	// RoleMember may also build and save charts, dashboards and cohorts.
	RoleMember Role = "member"
	// RoleAdmin may also manage the organisation, its members and keys.
	RoleAdmin Role = "admin"
)

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r grants at least the privileges of min. An
// invalid role grants nothing.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleMember:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Account is a person who can log in. PasswordHash is an encoded
// argon2id hash (see internal/auth) and never leaves the server.
type Account struct {
	ID           int64
	Email        string
	PasswordHash string
	Created      time.Time
	Disabled     bool
}

// Session is a login session. Only the SHA-256 of its token is stored.
type Session struct {
	ID        int64
	AccountID int64
	TokenHash string
	Created   time.Time
	// Expires is the absolute expiry; the idle expiry is LastSeen plus the
	// idle timeout chosen by internal/auth.
	Expires     time.Time
	LastSeen    time.Time
	Revoked     bool
	LastAddress string
}

// Org is an organisation: it holds projects and members.
type Org struct {
	ID      int64
	Name    string
	Created time.Time
}

// Membership is an organisation seen from one account.
type Membership struct {
	Org  Org
	Role Role
}

// Member is an account seen from one organisation.
type Member struct {
	OrgID     int64
	AccountID int64
	Email     string
	Role      Role
	Disabled  bool
}

// Project holds the events of one product. TimeZone is an IANA name
// used for day boundaries.
type Project struct {
	ID       int64
	OrgID    int64
	Name     string
	TimeZone string
	Created  time.Time
}

// ProjectRole is a per-project override of an org member's role.
type ProjectRole struct {
	ProjectID int64
	AccountID int64
	Email     string
	Role      Role
}

// KeyKind tells an ingestion API key from a read-API secret key.
type KeyKind string

// The key kinds.
const (
	// KeyAPI is the public ingestion key; its value is stored and shown.
	KeyAPI KeyKind = "api"
	// KeySecret is the read-API secret; only its SHA-256 is stored.
	KeySecret KeyKind = "secret"
)

// Valid reports whether k is a known kind.
func (k KeyKind) Valid() bool { return k == KeyAPI || k == KeySecret }

// Key is a project key. Value is set for API keys only; a secret key's
// value is returned once, by the call that creates it. Expires is nil
// while the key is current; rotation sets it to the end of the grace
// period.
type Key struct {
	ID        int64
	ProjectID int64
	Kind      KeyKind
	Value     string
	// Hint is the last 4 characters of the key, for recognising it.
	Hint    string
	Created time.Time
	Expires *time.Time
}

// ActiveAt reports whether the key is accepted at t.
func (k Key) ActiveAt(t time.Time) bool { return k.Expires == nil || t.Before(*k.Expires) }

// Invitation lets whoever holds its token join OrgID with Role. Only the
// token's SHA-256 is stored.
type Invitation struct {
	ID        int64
	OrgID     int64
	Role      Role
	Email     string // optional: when set, only this address may accept
	TokenHash string
	CreatedBy int64
	Created   time.Time
	Expires   time.Time
	Used      *time.Time
}

// AuditEntry records one administrative action.
type AuditEntry struct {
	ID         int64
	OrgID      int64 // 0 when the action concerns no organisation
	AccountID  int64 // 0 for the command line or the system
	Email      string
	Action     string
	Target     string
	At         time.Time
	RemoteAddr string
	Details    json.RawMessage
}

// Chart is a saved chart of a project: an analysis definition as the
// query API takes it, and the web app's display options.
type Chart struct {
	ID          int64
	ProjectID   int64
	Name        string
	Description string
	// Definition is the analysis definition (JSON, with "type").
	Definition json.RawMessage
	// Options are display settings (visualisation, ...), JSON.
	Options   json.RawMessage
	CreatedBy int64
	Created   time.Time
	Updated   time.Time
}

// DashboardItem places one saved chart on a dashboard's grid.
type DashboardItem struct {
	ChartID int64 `json:"chart_id"`
	// Width is the number of grid columns (1 to 12).
	Width int `json:"width"`
	// Height is the number of rows (1 to 4).
	Height int `json:"height"`
}

// Dashboard is a named grid of saved charts, in Items order.
type Dashboard struct {
	ID          int64
	ProjectID   int64
	Name        string
	Description string
	Items       []DashboardItem
	CreatedBy   int64
	Created     time.Time
	Updated     time.Time
}

// DefaultKeys are the keys of the default project, returned once when
// EnsureDefault creates it so the caller can print them.
type DefaultKeys struct {
	APIKey    string
	SecretKey string
}

// Setup describes the first-run setup: the first administrator and the
// names of the default organisation and project.
type Setup struct {
	Email        string
	PasswordHash string
	OrgName      string
	ProjectName  string
	TimeZone     string
}

// Store is the metadata store. Implementations are safe for concurrent
// use. Lookups of a missing row return ErrNotFound; uniqueness
// violations return ErrConflict.
type Store interface {
	// EnsureDefault creates the default organisation and project on an
	// empty store; apiKey/secretKey when non-empty become its keys,
	// otherwise random ones are generated. created reports whether
	// anything was created (then keys holds the keys, to print once).
	EnsureDefault(ctx context.Context, apiKey, secretKey string) (p Project, keys DefaultKeys, created bool, err error)
	// SetupFirstAdmin creates the first account as administrator of the
	// default organisation (creating it if needed) and renames the default
	// organisation and project. It returns ErrConflict once any account
	// exists.
	SetupFirstAdmin(ctx context.Context, s Setup) (Account, Project, error)
	// CountAccounts returns the number of accounts.
	CountAccounts(ctx context.Context) (int, error)

	CreateAccount(ctx context.Context, email, passwordHash string) (Account, error)
	Account(ctx context.Context, id int64) (Account, error)
	AccountByEmail(ctx context.Context, email string) (Account, error)
	SetPassword(ctx context.Context, accountID int64, passwordHash string) error
	SetDisabled(ctx context.Context, accountID int64, disabled bool) error

	// CreateSession stores s (TokenHash set by the caller) and returns it
	// with its ID.
	CreateSession(ctx context.Context, s Session) (Session, error)
	SessionByTokenHash(ctx context.Context, tokenHash string) (Session, error)
	// TouchSession records activity on a session.
	TouchSession(ctx context.Context, id int64, at time.Time, addr string) error
	// Sessions lists an account's sessions that are not revoked, newest first.
	Sessions(ctx context.Context, accountID int64) ([]Session, error)
	RevokeSession(ctx context.Context, accountID, sessionID int64) error
	// RevokeSessions revokes every session of the account except exceptID.
	RevokeSessions(ctx context.Context, accountID, exceptID int64) error

	CreateOrg(ctx context.Context, name string, admin int64) (Org, error)
	Org(ctx context.Context, id int64) (Org, error)
	RenameOrg(ctx context.Context, id int64, name string) error
	Memberships(ctx context.Context, accountID int64) ([]Membership, error)
	Members(ctx context.Context, orgID int64) ([]Member, error)
	// MemberRole returns the account's role in the org; ok is false when it
	// is not a member.
	MemberRole(ctx context.Context, orgID, accountID int64) (role Role, ok bool, err error)
	// SetMember adds the account to the org or changes its role.
	SetMember(ctx context.Context, orgID, accountID int64, role Role) error
	// RemoveMember removes the account and its project overrides in the org.
	RemoveMember(ctx context.Context, orgID, accountID int64) error

	CreateProject(ctx context.Context, orgID int64, name, timeZone string) (Project, error)
	Project(ctx context.Context, id int64) (Project, error)
	Projects(ctx context.Context, orgID int64) ([]Project, error)
	UpdateProject(ctx context.Context, p Project) error
	ProjectRoles(ctx context.Context, projectID int64) ([]ProjectRole, error)
	// ProjectRole returns the account's override on the project, if any.
	ProjectRole(ctx context.Context, projectID, accountID int64) (role Role, ok bool, err error)
	SetProjectRole(ctx context.Context, projectID, accountID int64, role Role) error
	DeleteProjectRole(ctx context.Context, projectID, accountID int64) error

	// Keys lists a project's keys, current and expired, newest first.
	Keys(ctx context.Context, projectID int64) ([]Key, error)
	// RotateKey makes value the project's current key of that kind and sets
	// the expiry of the keys it replaces to graceUntil (if they were not
	// already expiring sooner).
	RotateKey(ctx context.Context, projectID int64, kind KeyKind, value string, graceUntil time.Time) (Key, error)
	// ProjectByAPIKey resolves an ingestion key, honouring rotation grace.
	ProjectByAPIKey(ctx context.Context, apiKey string) (Project, bool, error)
	// ProjectByKeys resolves an API key + secret key pair (HTTP Basic).
	ProjectByKeys(ctx context.Context, apiKey, secretKey string) (Project, bool, error)

	CreateInvitation(ctx context.Context, inv Invitation) (Invitation, error)
	InvitationByTokenHash(ctx context.Context, tokenHash string) (Invitation, error)
	Invitations(ctx context.Context, orgID int64) ([]Invitation, error)
	DeleteInvitation(ctx context.Context, orgID, id int64) error
	// AcceptInvitation marks the invitation used and adds the account to
	// its org, atomically; ErrConflict if it was already used.
	AcceptInvitation(ctx context.Context, id, accountID int64, at time.Time) error

	AddAudit(ctx context.Context, e AuditEntry) error
	// Audit returns an org's entries, newest first, at most limit.
	Audit(ctx context.Context, orgID int64, limit int) ([]AuditEntry, error)

	// CreateChart stores a saved chart and returns it with its ID and times.
	CreateChart(ctx context.Context, c Chart) (Chart, error)
	// Chart returns a project's saved chart.
	Chart(ctx context.Context, projectID, id int64) (Chart, error)
	// Charts lists a project's saved charts, most recently updated first.
	Charts(ctx context.Context, projectID int64) ([]Chart, error)
	// UpdateChart replaces the name, description, definition and options
	// of c (found by ProjectID and ID) and returns it as stored.
	UpdateChart(ctx context.Context, c Chart) (Chart, error)
	DeleteChart(ctx context.Context, projectID, id int64) error

	// CreateDashboard stores a dashboard and returns it with its ID.
	CreateDashboard(ctx context.Context, d Dashboard) (Dashboard, error)
	Dashboard(ctx context.Context, projectID, id int64) (Dashboard, error)
	// Dashboards lists a project's dashboards, most recently updated first.
	Dashboards(ctx context.Context, projectID int64) ([]Dashboard, error)
	// UpdateDashboard replaces the name, description and items of d.
	UpdateDashboard(ctx context.Context, d Dashboard) (Dashboard, error)
	DeleteDashboard(ctx context.Context, projectID, id int64) error

	Close() error
}

// NewKey returns a random key: 32 lowercase hex characters (128 bits
// from crypto/rand).
func NewKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// HashSecret returns the hex SHA-256 of a high-entropy secret (secret
// keys, session and invitation tokens). A fast hash suffices because the
// secrets are random, not chosen by people.
func HashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
