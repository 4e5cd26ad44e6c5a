package sqlstore

import (
	"context"

	"github.com/crest-analytics/crest/internal/meta"
)

// AddAudit implements meta.Store. A zero At means now.
func (s *Store) AddAudit(ctx context.Context, e meta.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	details := string(e.Details)
	if details == "" {
		details = "{}"
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_log (org_id, account_id, email, action, target, at, remote_addr, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.OrgID, e.AccountID, e.Email, e.Action, e.Target, ms(e.At), e.RemoteAddr, details)
	return err
}

// Audit implements meta.Store.
func (s *Store) Audit(ctx context.Context, orgID int64, limit int) ([]meta.AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_id, account_id, email, action, target, at, remote_addr, details
		FROM audit_log WHERE org_id = ? ORDER BY id DESC LIMIT ?`, orgID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.AuditEntry
	for rows.Next() {
		var e meta.AuditEntry
		var at int64
		var details string
		if err := rows.Scan(&e.ID, &e.OrgID, &e.AccountID, &e.Email, &e.Action, &e.Target, &at, &e.RemoteAddr, &details); err != nil {
			return nil, err
		}
		e.At, e.Details = fromMS(at), []byte(details)
		out = append(out, e)
	}
	return out, rows.Err()
}
