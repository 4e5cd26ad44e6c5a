package sqlite

// migrations are applied in order; migration i (1-based) is recorded in
// schema_migrations as version i. Never edit a released migration: append
// a new one. The SQL avoids SQLite-only syntax where a portable form
// exists (times are INTEGER Unix milliseconds, booleans INTEGER 0/1) so a
// PostgreSQL backend can use the same schema with BIGSERIAL keys.
var migrations = []string{
	// 1: accounts, sessions, organisations, projects, keys, invitations, audit.
	`
CREATE TABLE accounts (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created       INTEGER NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	token_hash   TEXT NOT NULL UNIQUE,
	created      INTEGER NOT NULL,
	expires      INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	revoked      INTEGER NOT NULL DEFAULT 0,
	last_address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions(account_id);
CREATE TABLE orgs (
	id      INTEGER PRIMARY KEY,
	name    TEXT NOT NULL,
	created INTEGER NOT NULL
);
CREATE TABLE org_members (
	org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
	PRIMARY KEY (org_id, account_id)
);
CREATE INDEX org_members_account ON org_members(account_id);
CREATE TABLE projects (
	id        INTEGER PRIMARY KEY,
	org_id    INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	time_zone TEXT NOT NULL DEFAULT 'UTC',
	created   INTEGER NOT NULL
);
CREATE INDEX projects_org ON projects(org_id);
CREATE TABLE project_roles (
	project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
	PRIMARY KEY (project_id, account_id)
);
CREATE TABLE project_keys (
	id         INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	kind       TEXT NOT NULL CHECK (kind IN ('api', 'secret')),
	value      TEXT,
	value_hash TEXT NOT NULL,
	hint       TEXT NOT NULL,
	created    INTEGER NOT NULL,
	expires    INTEGER
);
CREATE INDEX project_keys_project ON project_keys(project_id, kind);
CREATE UNIQUE INDEX project_keys_value ON project_keys(kind, value_hash);
CREATE TABLE invitations (
	id         INTEGER PRIMARY KEY,
	org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
	email      TEXT NOT NULL DEFAULT '',
	token_hash TEXT NOT NULL UNIQUE,
	created_by INTEGER NOT NULL,
	created    INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	used       INTEGER
);
CREATE INDEX invitations_org ON invitations(org_id);
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY,
	org_id      INTEGER NOT NULL DEFAULT 0,
	account_id  INTEGER NOT NULL DEFAULT 0,
	email       TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	target      TEXT NOT NULL DEFAULT '',
	at          INTEGER NOT NULL,
	remote_addr TEXT NOT NULL DEFAULT '',
	details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_org ON audit_log(org_id, id);
`,
	// 2: saved charts and dashboards.
	`
CREATE TABLE charts (
	id          INTEGER PRIMARY KEY,
	project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	definition  TEXT NOT NULL,
	options     TEXT NOT NULL DEFAULT '{}',
	created_by  INTEGER NOT NULL DEFAULT 0,
	created     INTEGER NOT NULL,
	updated     INTEGER NOT NULL
);
CREATE INDEX charts_project ON charts(project_id, updated);
CREATE TABLE dashboards (
	id          INTEGER PRIMARY KEY,
	project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	items       TEXT NOT NULL DEFAULT '[]',
	created_by  INTEGER NOT NULL DEFAULT 0,
	created     INTEGER NOT NULL,
	updated     INTEGER NOT NULL
);
CREATE INDEX dashboards_project ON dashboards(project_id, updated);
`,
}
