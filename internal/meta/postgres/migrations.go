package postgres

// Derived from internal/meta/sqlite/migrations.go: the same statements with
// BIGINT for INTEGER and BIGSERIAL keys. Keep the two in step.

// migrations are applied in order; migration i (1-based) is recorded in
// schema_migrations as version i. Never edit a released migration: append
// a new one. The SQL avoids SQLite-only syntax where a portable form
// exists (times are BIGINT Unix milliseconds, booleans BIGINT 0/1) so a
// PostgreSQL backend can use the same schema with BIGSERIAL keys.
var migrations = []string{
	// 1: accounts, sessions, organisations, projects, keys, invitations, audit.
	`
CREATE TABLE accounts (
	id            BIGSERIAL PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created       BIGINT NOT NULL,
	disabled      BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
	id           BIGSERIAL PRIMARY KEY,
	account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	token_hash   TEXT NOT NULL UNIQUE,
	created      BIGINT NOT NULL,
	expires      BIGINT NOT NULL,
	last_seen    BIGINT NOT NULL,
	revoked      BIGINT NOT NULL DEFAULT 0,
	last_address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions(account_id);
CREATE TABLE orgs (
	id      BIGSERIAL PRIMARY KEY,
	name    TEXT NOT NULL,
	created BIGINT NOT NULL
);
CREATE TABLE org_members (
	org_id     BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
	PRIMARY KEY (org_id, account_id)
);
CREATE INDEX org_members_account ON org_members(account_id);
CREATE TABLE projects (
	id        BIGSERIAL PRIMARY KEY,
	org_id    BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	time_zone TEXT NOT NULL DEFAULT 'UTC',
	created   BIGINT NOT NULL
);
CREATE INDEX projects_org ON projects(org_id);
CREATE TABLE project_roles (
	project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
	PRIMARY KEY (project_id, account_id)
);
CREATE TABLE project_keys (
	id         BIGSERIAL PRIMARY KEY,
	project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	kind       TEXT NOT NULL CHECK (kind IN ('api', 'secret')),
	value      TEXT,
	value_hash TEXT NOT NULL,
	hint       TEXT NOT NULL,
	created    BIGINT NOT NULL,
	expires    BIGINT
);
CREATE INDEX project_keys_project ON project_keys(project_id, kind);
CREATE UNIQUE INDEX project_keys_value ON project_keys(kind, value_hash);
CREATE TABLE invitations (
	id         BIGSERIAL PRIMARY KEY,
	org_id     BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
	email      TEXT NOT NULL DEFAULT '',
	token_hash TEXT NOT NULL UNIQUE,
	created_by BIGINT NOT NULL,
	created    BIGINT NOT NULL,
	expires    BIGINT NOT NULL,
	used       BIGINT
);
CREATE INDEX invitations_org ON invitations(org_id);
CREATE TABLE audit_log (
	id          BIGSERIAL PRIMARY KEY,
	org_id      BIGINT NOT NULL DEFAULT 0,
	account_id  BIGINT NOT NULL DEFAULT 0,
	email       TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	target      TEXT NOT NULL DEFAULT '',
	at          BIGINT NOT NULL,
	remote_addr TEXT NOT NULL DEFAULT '',
	details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_org ON audit_log(org_id, id);
`,
	// 2: saved charts and dashboards.
	`
CREATE TABLE charts (
	id          BIGSERIAL PRIMARY KEY,
	project_id  BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	definition  TEXT NOT NULL,
	options     TEXT NOT NULL DEFAULT '{}',
	created_by  BIGINT NOT NULL DEFAULT 0,
	created     BIGINT NOT NULL,
	updated     BIGINT NOT NULL
);
CREATE INDEX charts_project ON charts(project_id, updated);
CREATE TABLE dashboards (
	id          BIGSERIAL PRIMARY KEY,
	project_id  BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	items       TEXT NOT NULL DEFAULT '[]',
	created_by  BIGINT NOT NULL DEFAULT 0,
	created     BIGINT NOT NULL,
	updated     BIGINT NOT NULL
);
CREATE INDEX dashboards_project ON dashboards(project_id, updated);
`,
	// 3: the identity map shared by several Crest nodes (identity.go; not
	// in SQLite, which one node uses alone). identity_user_ids holds the
	// one claim of each user_id; identity_users the latest row of each
	// identified user as last published by any node, versioned by
	// identity_users_ver.
	`
CREATE TABLE identity_user_ids (
	project_id   BIGINT NOT NULL,
	user_id      TEXT NOT NULL,
	amplitude_id BIGINT NOT NULL,
	node         TEXT NOT NULL,
	claimed      BIGINT NOT NULL,
	PRIMARY KEY (project_id, user_id)
);
CREATE SEQUENCE identity_users_ver;
CREATE TABLE identity_users (
	project_id     BIGINT NOT NULL,
	amplitude_id   BIGINT NOT NULL,
	user_id        TEXT NOT NULL,
	properties     TEXT NOT NULL DEFAULT '',
	first_seen     BIGINT NOT NULL DEFAULT 0,
	last_seen      BIGINT NOT NULL DEFAULT 0,
	device_ids     TEXT NOT NULL DEFAULT '[]',
	first_platform TEXT NOT NULL DEFAULT '',
	first_country  TEXT NOT NULL DEFAULT '',
	merged_into    BIGINT NOT NULL DEFAULT 0,
	node           TEXT NOT NULL,
	ver            BIGINT NOT NULL DEFAULT nextval('identity_users_ver'),
	PRIMARY KEY (project_id, amplitude_id)
);
`,
}
