package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

// CreateOrg implements meta.Store; admin (when non-zero) becomes its
// first administrator.
func (s *Store) CreateOrg(ctx context.Context, name string, admin int64) (meta.Org, error) {
	var o meta.Org
	err := s.tx(ctx, func(tx *Tx) error {
		var err error
		o, err = createOrg(ctx, tx, name, s.now())
		if err != nil || admin == 0 {
			return err
		}
		return setMember(ctx, tx, o.ID, admin, meta.RoleAdmin)
	})
	return o, err
}

func createOrg(ctx context.Context, tx *Tx, name string, now time.Time) (meta.Org, error) {
	o := meta.Org{Name: name, Created: fromMS(ms(now))}
	err := tx.QueryRowContext(ctx, `INSERT INTO orgs (name, created) VALUES (?, ?) RETURNING id`, name, ms(now)).Scan(&o.ID)
	return o, mapErr(err)
}

// Org implements meta.Store.
func (s *Store) Org(ctx context.Context, id int64) (meta.Org, error) {
	o := meta.Org{ID: id}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT name, created FROM orgs WHERE id = ?`, id).Scan(&o.Name, &created)
	o.Created = fromMS(created)
	return o, mapErr(err)
}

// RenameOrg implements meta.Store.
func (s *Store) RenameOrg(ctx context.Context, id int64, name string) error {
	return requireOne(s.db.ExecContext(ctx, `UPDATE orgs SET name = ? WHERE id = ?`, name, id))
}

// Memberships implements meta.Store.
func (s *Store) Memberships(ctx context.Context, accountID int64) ([]meta.Membership, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, o.name, o.created, m.role FROM org_members m
		JOIN orgs o ON o.id = m.org_id WHERE m.account_id = ? ORDER BY o.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Membership
	for rows.Next() {
		var m meta.Membership
		var created int64
		if err := rows.Scan(&m.Org.ID, &m.Org.Name, &created, &m.Role); err != nil {
			return nil, err
		}
		m.Org.Created = fromMS(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Members implements meta.Store.
func (s *Store) Members(ctx context.Context, orgID int64) ([]meta.Member, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.account_id, a.email, m.role, a.disabled FROM org_members m
		JOIN accounts a ON a.id = m.account_id WHERE m.org_id = ? ORDER BY a.email`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Member
	for rows.Next() {
		m := meta.Member{OrgID: orgID}
		var disabled int
		if err := rows.Scan(&m.AccountID, &m.Email, &m.Role, &disabled); err != nil {
			return nil, err
		}
		m.Disabled = disabled != 0
		out = append(out, m)
	}
	return out, rows.Err()
}

// MemberRole implements meta.Store.
func (s *Store) MemberRole(ctx context.Context, orgID, accountID int64) (meta.Role, bool, error) {
	var r meta.Role
	err := s.db.QueryRowContext(ctx, `SELECT role FROM org_members WHERE org_id = ? AND account_id = ?`, orgID, accountID).Scan(&r)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	return r, err == nil, err
}

// SetMember implements meta.Store.
func (s *Store) SetMember(ctx context.Context, orgID, accountID int64, role meta.Role) error {
	return s.tx(ctx, func(tx *Tx) error { return setMember(ctx, tx, orgID, accountID, role) })
}

func setMember(ctx context.Context, tx *Tx, orgID, accountID int64, role meta.Role) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO org_members (org_id, account_id, role) VALUES (?, ?, ?)
		ON CONFLICT (org_id, account_id) DO UPDATE SET role = excluded.role`, orgID, accountID, string(role))
	return mapErr(err)
}

// RemoveMember implements meta.Store.
func (s *Store) RemoveMember(ctx context.Context, orgID, accountID int64) error {
	return s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM project_roles WHERE account_id = ?
			AND project_id IN (SELECT id FROM projects WHERE org_id = ?)`, accountID, orgID); err != nil {
			return err
		}
		return requireOne(tx.ExecContext(ctx, `DELETE FROM org_members WHERE org_id = ? AND account_id = ?`, orgID, accountID))
	})
}
