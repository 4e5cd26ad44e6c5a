package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

// Keys implements meta.Store.
func (s *Store) Keys(ctx context.Context, projectID int64) ([]meta.Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, value, hint, created, expires FROM project_keys
		WHERE project_id = ? ORDER BY id DESC`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Key
	for rows.Next() {
		k := meta.Key{ProjectID: projectID}
		var value sql.NullString
		var created int64
		var expires sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Kind, &value, &k.Hint, &created, &expires); err != nil {
			return nil, err
		}
		k.Value, k.Created, k.Expires = value.String, fromMS(created), fromNullMS(expires)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RotateKey implements meta.Store.
func (s *Store) RotateKey(ctx context.Context, projectID int64, kind meta.KeyKind, value string, graceUntil time.Time) (meta.Key, error) {
	var k meta.Key
	err := s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE project_keys SET expires = ?
			WHERE project_id = ? AND kind = ? AND (expires IS NULL OR expires > ?)`,
			ms(graceUntil), projectID, string(kind), ms(graceUntil)); err != nil {
			return err
		}
		var err error
		k, err = addKey(ctx, tx, projectID, kind, value, s.now())
		return err
	})
	return k, err
}

func addKey(ctx context.Context, tx *Tx, projectID int64, kind meta.KeyKind, value string, now time.Time) (meta.Key, error) {
	k := meta.Key{ProjectID: projectID, Kind: kind, Created: fromMS(ms(now))}
	if len(value) >= 4 {
		k.Hint = value[len(value)-4:]
	}
	var stored sql.NullString
	if kind == meta.KeyAPI {
		k.Value = value
		stored = sql.NullString{String: value, Valid: true}
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO project_keys (project_id, kind, value, value_hash, hint, created)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		projectID, string(kind), stored, meta.HashSecret(value), k.Hint, ms(now)).Scan(&k.ID)
	return k, mapErr(err)
}

// ProjectByAPIKey implements meta.Store. The lookup is by the key's hash,
// so the index probe does not depend on the key's bytes.
func (s *Store) ProjectByAPIKey(ctx context.Context, apiKey string) (meta.Project, bool, error) {
	if apiKey == "" {
		return meta.Project{}, false, nil
	}
	p, err := scanProject(s.db.QueryRowContext(ctx, `SELECT p.id, p.org_id, p.name, p.time_zone, p.created
		FROM project_keys k JOIN projects p ON p.id = k.project_id
		WHERE k.kind = 'api' AND k.value_hash = ? AND (k.expires IS NULL OR k.expires > ?)`,
		meta.HashSecret(apiKey), ms(s.now())))
	if err == meta.ErrNotFound {
		return meta.Project{}, false, nil
	}
	return p, err == nil, err
}

// ProjectByKeys implements meta.Store: the secret key must be an active
// secret key of the project the API key belongs to.
func (s *Store) ProjectByKeys(ctx context.Context, apiKey, secretKey string) (meta.Project, bool, error) {
	p, ok, err := s.ProjectByAPIKey(ctx, apiKey)
	if err != nil || !ok || secretKey == "" {
		return meta.Project{}, false, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT value_hash FROM project_keys
		WHERE project_id = ? AND kind = 'secret' AND (expires IS NULL OR expires > ?)`, p.ID, ms(s.now()))
	if err != nil {
		return meta.Project{}, false, err
	}
	defer rows.Close()
	want := []byte(meta.HashSecret(secretKey))
	match := 0
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return meta.Project{}, false, err
		}
		match |= subtle.ConstantTimeCompare([]byte(h), want)
	}
	if err := rows.Err(); err != nil {
		return meta.Project{}, false, err
	}
	if match != 1 {
		return meta.Project{}, false, nil
	}
	return p, true, nil
}
