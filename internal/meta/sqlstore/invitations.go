package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

const invitationCols = `id, org_id, role, email, token_hash, created_by, created, expires, used`

func scanInvitation(row interface{ Scan(...any) error }) (meta.Invitation, error) {
	var i meta.Invitation
	var created, expires int64
	var used sql.NullInt64
	if err := row.Scan(&i.ID, &i.OrgID, &i.Role, &i.Email, &i.TokenHash, &i.CreatedBy, &created, &expires, &used); err != nil {
		return meta.Invitation{}, mapErr(err)
	}
	i.Created, i.Expires, i.Used = fromMS(created), fromMS(expires), fromNullMS(used)
	return i, nil
}

// CreateInvitation implements meta.Store.
func (s *Store) CreateInvitation(ctx context.Context, i meta.Invitation) (meta.Invitation, error) {
	i.Email = normEmail(i.Email)
	err := s.db.QueryRowContext(ctx, `INSERT INTO invitations (org_id, role, email, token_hash, created_by, created, expires)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		i.OrgID, string(i.Role), i.Email, i.TokenHash, i.CreatedBy, ms(i.Created), ms(i.Expires)).Scan(&i.ID)
	return i, mapErr(err)
}

// InvitationByTokenHash implements meta.Store.
func (s *Store) InvitationByTokenHash(ctx context.Context, tokenHash string) (meta.Invitation, error) {
	return scanInvitation(s.db.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?`, tokenHash))
}

// Invitations implements meta.Store.
func (s *Store) Invitations(ctx context.Context, orgID int64) ([]meta.Invitation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+invitationCols+` FROM invitations WHERE org_id = ? ORDER BY id DESC`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Invitation
	for rows.Next() {
		i, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// DeleteInvitation implements meta.Store.
func (s *Store) DeleteInvitation(ctx context.Context, orgID, id int64) error {
	return requireOne(s.db.ExecContext(ctx, `DELETE FROM invitations WHERE id = ? AND org_id = ?`, id, orgID))
}

// AcceptInvitation implements meta.Store. An existing membership keeps
// the higher of its role and the invitation's.
func (s *Store) AcceptInvitation(ctx context.Context, id, accountID int64, at time.Time) error {
	return s.tx(ctx, func(tx *Tx) error {
		i, err := scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if i.Used != nil {
			return meta.ErrConflict
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET used = ? WHERE id = ?`, ms(at), id); err != nil {
			return err
		}
		var cur meta.Role
		err = tx.QueryRowContext(ctx, `SELECT role FROM org_members WHERE org_id = ? AND account_id = ?`, i.OrgID, accountID).Scan(&cur)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return err
		case cur.AtLeast(i.Role):
			return nil
		}
		return setMember(ctx, tx, i.OrgID, accountID, i.Role)
	})
}
