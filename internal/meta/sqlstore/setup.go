package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/crest-analytics/crest/internal/meta"
)

// Default names of what EnsureDefault creates.
const (
	DefaultOrgName     = "Default organisation"
	DefaultProjectName = "Default project"
)

// EnsureDefault implements meta.Store.
func (s *Store) EnsureDefault(ctx context.Context, apiKey, secretKey string) (meta.Project, meta.DefaultKeys, bool, error) {
	var (
		p       meta.Project
		keys    meta.DefaultKeys
		created bool
	)
	err := s.tx(ctx, func(tx *Tx) error {
		var err error
		p, keys, created, err = ensureDefault(ctx, tx, s, apiKey, secretKey)
		return err
	})
	if err != nil {
		return meta.Project{}, meta.DefaultKeys{}, false, fmt.Errorf("ensure default project: %w", err)
	}
	return p, keys, created, nil
}

// ensureDefault returns the first project of the first organisation,
// creating both (with keys) when the store has no organisation.
func ensureDefault(ctx context.Context, tx *Tx, s *Store, apiKey, secretKey string) (meta.Project, meta.DefaultKeys, bool, error) {
	var orgID int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM orgs ORDER BY id LIMIT 1`).Scan(&orgID)
	if err == nil {
		p, err := scanProject(tx.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE org_id = ? ORDER BY id LIMIT 1`, orgID))
		if err == nil {
			return p, meta.DefaultKeys{}, false, nil
		}
		if err != meta.ErrNotFound {
			return meta.Project{}, meta.DefaultKeys{}, false, err
		}
	} else if err != sql.ErrNoRows {
		return meta.Project{}, meta.DefaultKeys{}, false, err
	} else {
		o, err := createOrg(ctx, tx, DefaultOrgName, s.now())
		if err != nil {
			return meta.Project{}, meta.DefaultKeys{}, false, err
		}
		orgID = o.ID
	}
	p, err := createProject(ctx, tx, orgID, DefaultProjectName, "UTC", s.now())
	if err != nil {
		return meta.Project{}, meta.DefaultKeys{}, false, err
	}
	keys := meta.DefaultKeys{APIKey: apiKey, SecretKey: secretKey}
	for _, k := range []struct {
		kind meta.KeyKind
		v    *string
	}{{meta.KeyAPI, &keys.APIKey}, {meta.KeySecret, &keys.SecretKey}} {
		if *k.v == "" {
			if *k.v, err = meta.NewKey(); err != nil {
				return meta.Project{}, meta.DefaultKeys{}, false, err
			}
		}
		if _, err := addKey(ctx, tx, p.ID, k.kind, *k.v, s.now()); err != nil {
			return meta.Project{}, meta.DefaultKeys{}, false, fmt.Errorf("add %s key: %w", k.kind, err)
		}
	}
	return p, keys, true, nil
}

// SetupFirstAdmin implements meta.Store.
func (s *Store) SetupFirstAdmin(ctx context.Context, su meta.Setup) (meta.Account, meta.Project, error) {
	var (
		a meta.Account
		p meta.Project
	)
	err := s.tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: setup already done", meta.ErrConflict)
		}
		var err error
		if p, _, _, err = ensureDefault(ctx, tx, s, "", ""); err != nil {
			return err
		}
		if a, err = createAccount(ctx, tx, su.Email, su.PasswordHash, s.now()); err != nil {
			return err
		}
		if err := setMember(ctx, tx, p.OrgID, a.ID, meta.RoleAdmin); err != nil {
			return err
		}
		if su.OrgName != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE orgs SET name = ? WHERE id = ?`, su.OrgName, p.OrgID); err != nil {
				return err
			}
		}
		if su.ProjectName != "" {
			p.Name = su.ProjectName
		}
		if su.TimeZone != "" {
			p.TimeZone = su.TimeZone
		}
		_, err = tx.ExecContext(ctx, `UPDATE projects SET name = ?, time_zone = ? WHERE id = ?`, p.Name, p.TimeZone, p.ID)
		return err
	})
	return a, p, err
}
